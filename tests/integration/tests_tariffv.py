"""Integration tests of tariff versions and languages (issue 10).

Tariff versions (schema/009): every import is a new version, kept; an answer uses the
version in force when it was given; GET /v1/tariffs/{code}?date=&known_at= gives the
version in force then; coverage-as-of at an agreement's known_at (with the agreement's
items and provider) reproduces the agreement's answer exactly: items, amounts, totals,
cap use, decision version. Across three imports, a decision change and a void.

Languages: nl, fr, de, en for the refusal reasons, the item refusals and the problem
titles; "message" in the language asked, "messages" with nl, fr and de always; the
recorded agreement keeps the language the provider asked (GET returns it byte for byte).

The group restores the sample tariffs as the newest version when it ends."""

import json

from harness import PRINCIPALS, ROOT, Daemon, clean_exit, day, expect, started
from tests_agreements import ask, cover, import_csv, person
from tests_api import problem
from tests_audit import get_json, known_at_us
from tests_dbrules import denied
from tests_lifecycle import current, editable, ok_version, put

SAMPLE = ROOT / "scripts" / "sample-tariffs.csv"
PROVIDER_ORG = PRINCIPALS["provider"][1]
ITEMS = [{"code": "101076", "quantity": 1}, {"code": "101032", "quantity": 2},
         {"code": "999999", "quantity": 1}]
ITEMS_QS = "101076:1,101032:2,999999:1"


def version_csv(fee_101076, share_101076, fee_101032):
    """The sample table with other amounts for the current lines of 101076 and 101032."""
    out = []
    for line in SAMPLE.read_text().splitlines():
        if line.startswith("101076,2026-01-01"):
            line = f"101076,2026-01-01,2027-12-31,{fee_101076},{share_101076},general_practice"
        elif line.startswith("101032,"):
            line = f"101032,2025-01-01,2027-12-31,{fee_101032},901,general_practice"
        out.append(line)
    return "\n".join(out) + "\n"


def qs(**kw):
    import urllib.parse
    return urllib.parse.urlencode({k: v for k, v in kw.items() if v is not None})


def without(j, *keys):
    return {k: v for k, v in j.items() if k not in keys}


def run(env, tap):
    d = Daemon(env, "tariffv", workers=2)
    if not started(tap, d):
        return
    st = {"ag": []}  # (answer as sent, raw body, the tariff version in force)

    @tap.case("three imports: each a new version (numbers grow, in force in order), the "
              "earlier ones kept in the database")
    def _():
        vs = []
        for fees in ((3000, 600, 4512), (3500, 800, 4600), (4100, 700, 4700)):
            r = import_csv(d, version_csv(*fees))
            expect(r.status == 200 and r.json.get("imported") == 11, repr(r))
            vs.append(r.json)
            if len(vs) == 1:
                st["v1"] = vs[0]
        expect(vs[0]["version"] < vs[1]["version"] < vs[2]["version"], repr(vs))
        expect(vs[0]["in_force_at"] < vs[1]["in_force_at"] < vs[2]["in_force_at"], repr(vs))
        ids = ",".join(str(v["version"]) for v in vs)
        n = env.psql(f"SELECT count(*) FROM tariff WHERE import_id IN ({ids})")
        expect(n.strip() == "33", f"lines kept of the three versions: {n!r}")
        st["versions"] = vs

    @tap.case("GET /v1/tariffs/{code}?date=&known_at=: the version in force then; without "
              "known_at the newest; before the first of these versions the one before")
    def _():
        vs = st["versions"]
        for v, fee in zip(vs, (3000, 3500, 4100)):
            j = get_json(d, "/v1/tariffs/101076?" + qs(date=day(0), known_at=v["in_force_at"]),
                         who="provider")
            expect(j["version"] == v["version"] and j["in_force_at"] == v["in_force_at"]
                   and [t["fee_cents"] for t in j["tariffs"]] == [fee], repr(j))
        j = get_json(d, "/v1/tariffs/101076?" + qs(date=day(0)), who="ocmw")
        expect(j["version"] == vs[2]["version"] and j["tariffs"][0]["fee_cents"] == 4100,
               repr(j))
        j = get_json(d, "/v1/tariffs/101076", who="admin")
        expect(len(j["tariffs"]) == 2 and j["version"] == vs[2]["version"], repr(j))
        problem(d.request("provider", "GET", "/v1/tariffs/101076?known_at=yesterday"), 400,
                "invalid_parameter")
        problem(d.request("provider", "GET", "/v1/tariffs/101076?known_at=1999-01-01"), 404,
                "not_found")
        problem(d.request("provider", "GET", "/v1/tariffs/101076?when=1"), 400,
                "unknown_parameter")

    @tap.case("the daemon's role cannot delete or change a version (no DELETE on tariff any "
              "more; tariff_import append-only)")
    def _():
        problems = [why for why in (
            denied(env, "DELETE FROM tariff"),
            denied(env, "UPDATE tariff SET fee_cents = 0"),
            denied(env, "UPDATE tariff_import SET lines = 0"),
            denied(env, "DELETE FROM tariff_import"),
        ) if why]
        expect(not problems, "\n".join(problems))
        out = env.psql_as("medaid", "UPDATE tariff SET fee_cents = fee_cents", check=False)
        expect(out.returncode != 0, f"the owner changed a version in place: {out!r}")

    def asked(s, lang=None):
        r = ask(d, s, day(0), items=ITEMS, lang=lang)
        expect(r.status == 200, repr(r))
        st["ag"].append((r.json, r.body, lang))
        return r

    @tap.case("answers across imports, a decision change and a void (cap 1000 a month on the "
              "patient share): each answer's amounts are those of the version in force")
    def _():
        s, dec = person(d, [cover("general_practice", share="partial", cap=1000)])
        st["ssin"], st["dec"] = s, dec
        r1 = asked(s)
        expect(r1.json["items"][0]["fee_cents"] == 4100, repr(r1.json))
        import_csv(d, version_csv(3300, 650, 4400))
        r2 = asked(s, lang="nl")
        expect(r2.json["items"][0]["fee_cents"] == 3300, repr(r2.json))
        b = editable(current(d, dec["id"]))
        b["covers"][0]["patient_share_cap_cents"] = 2500
        ok_version(put(d, "ocmw", dec["id"], b, if_match=1), 200, dec["id"], 2, "active")
        r3 = asked(s, lang="de")
        expect(r3.json["decision"]["version"] == 2, repr(r3.json))
        v = d.request("provider", "POST", f"/v1/agreements/{r1.json['agreement']}/void", {})
        expect(v.status == 200, repr(v))
        asked(s, lang="fr")
        import_csv(d, version_csv(3900, 500, 4800))
        r5 = asked(s)
        expect(r5.json["items"][0]["fee_cents"] == 3900, repr(r5.json))
        ocmw = [sum(i.get("ocmw_cents", 0) for i in a["items"]) for a, _b, _l in st["ag"]]
        expect(len(set(ocmw)) > 1, f"the cap changed nothing: {ocmw!r}")

    @tap.case("after the re-imports every agreement still reads back byte for byte (its "
              "amounts kept)")
    def _():
        for a, body, _lang in st["ag"]:
            g = d.request("provider", "GET", f"/v1/agreements/{a['agreement']}")
            expect(g.status == 200 and g.body == body,
                   f"{a['agreement']}: sent {body!r}\nnow {g.body!r}")

    @tap.case("coverage-as-of at each agreement's known_at, with its items and provider, in "
              "its language: the agreement's answer exactly (items, amounts, totals, cap use, "
              "decision version), and the tariff version in force then")
    def _():
        for a, body, lang in st["ag"]:
            n = a["agreement"]
            known = known_at_us(env, n)
            path = "/v1/audit/coverage-as-of?" + qs(
                ssin=st["ssin"], service_date=day(0), care_type="general_practice",
                known_at=known, provider=PROVIDER_ORG, items=ITEMS_QS)
            h = [f"Accept-Language: {lang}"] if lang else []
            r = d.request("auditor", "GET", path, headers=h)
            expect(r.status == 200, repr(r))
            got = without(r.json, "known_at", "tariff_version")
            # an as-of answer is computed again, not an agreement: no number, no signature
            sent = without(json.loads(body), "agreement", "signature")
            expect(json.dumps(got, sort_keys=True) == json.dumps(sent, sort_keys=True),
                   f"{n} at {known}:\nagreement {json.dumps(sent, sort_keys=True)}\n"
                   f"as-of     {json.dumps(got, sort_keys=True)}")
            for key in ("items", "totals"):
                expect(json.dumps(r.json[key]) == json.dumps(json.loads(body)[key]),
                       f"{n}: {key} not byte-exact")
            fee = a["items"][0]["fee_cents"]
            t = get_json(d, "/v1/tariffs/101076?" + qs(date=day(0), known_at=known),
                         who="auditor")
            expect(t["version"] == r.json["tariff_version"] and
                   t["tariffs"][0]["fee_cents"] == fee, f"{n}: {t!r} vs {r.json!r}")

    @tap.case("as-of with the items and without known_at's agreements: now, the newest "
              "version; items malformed: 400 invalid_parameter")
    def _():
        path = "/v1/audit/coverage-as-of?" + qs(
            ssin=st["ssin"], service_date=day(0), care_type="general_practice",
            known_at=st["versions"][0]["in_force_at"], items="101076")
        j = get_json(d, path)
        expect(j["tariff_version"] == st["versions"][0]["version"], repr(j))
        r = d.request("auditor", "GET", path.replace("items=101076", "items=101076%3A0"))
        problem(r, 400, "invalid_parameter")

    @tap.case("German: Accept-Language de (q-values, fallbacks): reason and item refusal in "
              "German, messages with nl, fr, de; the agreement keeps the German answer")
    def _():
        s = st["ssin"]
        a3 = st["ag"][2]
        item = a3[0]["items"][2]["refused"]
        expect(item["message"].startswith("Für diesen Code") and
               set(item["messages"]) == {"nl", "fr", "de"} and
               item["messages"]["de"] == item["message"], repr(item))
        g = d.request("provider", "GET", f"/v1/agreements/{a3[0]['agreement']}")
        expect(g.status == 200 and g.body == a3[1] and
               json.loads(g.body)["items"][2]["refused"]["message"] == item["message"],
               f"the recorded answer is not the German one sent: {g!r}")
        for lang in ("de", "de-BE", "it, de;q=0.8, fr;q=0.5", "en;q=0.1, de"):
            r = ask(d, "85073003329", day(0), lang=lang)
            j = r.json
            expect(r.status == 200 and j["reason"]["code"] == "invalid_ssin" and
                   j["reason"]["message"] ==
                   "Die Nationalregisternummer oder BIS-Nummer ist ungültig." and
                   j["reason"]["messages"]["de"] == j["reason"]["message"] and
                   j["reason"]["messages"]["nl"].startswith("Het rijksregisternummer") and
                   j["reason"]["messages"]["fr"].startswith("Le numéro"), f"{lang}: {j!r}")
        r = ask(d, s, day(1), lang="de")
        expect(r.json["reason"]["message"] == "Das Datum der Leistung liegt in der Zukunft.",
               repr(r.json))
        r = ask(d, s, day(0), lang="fr;q=0.9, de")
        expect(r.json["covered"] is True, repr(r.json))
        r = ask(d, s, day(0), "miscellaneous", lang="de")  # a GP may ask it
        expect(r.json["reason"]["message"] ==
               "Die Entscheidung deckt diese Art von Versorgung nicht.", repr(r.json))
        r = ask(d, s, day(0), "miscellaneous")
        expect(r.json["reason"]["message"] == "The decision does not cover this type of care."
               and set(r.json["reason"]["messages"]) == {"nl", "fr", "de"}, repr(r.json))

    @tap.case("problems of the coverage answer: title in the language asked, messages in "
              "nl, fr and de; English by default")
    def _():
        r = d.request("provider", "POST", "/v1/coverage", "{not json",
                      headers=["Accept-Language: de"])
        problem(r, 400, "malformed_json")
        expect(r.json["title"] == "Fehlerhaftes JSON" and
               r.json["messages"] == {"nl": "Ongeldige JSON", "fr": "JSON mal formé",
                                      "de": "Fehlerhaftes JSON"}, repr(r.json))
        r = d.request("provider", "POST", "/v1/coverage", {"ssin": 1},
                      headers=["Accept-Language: nl-BE"])
        problem(r, 422, "validation_failed")
        expect(r.json["title"] == "Validatie mislukt", repr(r.json))
        r = d.request("provider", "POST", "/v1/coverage", {"ssin": 1})
        expect(r.json["title"] == "Validation failed" and
               r.json["messages"]["de"] == "Validierung fehlgeschlagen", repr(r.json))

    @tap.case("the sample tariffs again, as the newest version (for the groups after this one)")
    def _():
        r = import_csv(d, SAMPLE.read_text())
        expect(r.status == 200 and r.json.get("imported") == 11, repr(r))

    clean_exit(tap, d)
