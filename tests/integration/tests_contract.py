"""HTTP conventions a client we did not write relies on (curl, by hand): ETag on
decisions (the version, strong) and agreements (the number and its void state),
If-None-Match -> 304 Not Modified with no body and the ETag repeated, 200 again after a
change, If-Match in the ETag form -> 200 / 412; and the contract check itself: an
answer the document does not describe is a failure (contract.check)."""

import json

import contract
from harness import Daemon, clean_exit, day, expect, new_ssin, started
from tests_agreements import ask, answer, cover, decision
from tests_api import decision_body


def run(env, tap):
    d = Daemon(env, "contract")
    if not started(tap, d):
        return
    st = {}

    @tap.case("POST /v1/decisions: 201 with ETag \"1\"; GET: 200 with the same strong ETag")
    def _():
        r = d.request("ocmw", "POST", "/v1/decisions", decision_body(new_ssin()))
        expect(r.status == 201, f"create: {r!r}")
        expect(r.header("etag") == '"1"', f"ETag of version 1: {r!r}")
        st["id"] = r.json["id"]
        g = d.request("ocmw", "GET", f"/v1/decisions/{st['id']}")
        expect(g.status == 200 and g.header("etag") == '"1"', f"GET: {g!r}")

    @tap.case("GET /v1/decisions/{id} with If-None-Match \"1\" (also W/\"1\", a list, *): "
              "304, no body, ETag repeated; another tag: 200")
    def _():
        for inm in ('"1"', 'W/"1"', '"7", "1"', "*"):
            r = d.request("ocmw", "GET", f"/v1/decisions/{st['id']}",
                          headers=[f"If-None-Match: {inm}"])
            expect(r.status == 304, f"If-None-Match {inm}: {r!r}")
            expect(r.body == b"" and r.header("etag") == '"1"', f"304: {r!r}")
            expect(r.header("content-length") is None, f"a 304 sends no length: {r!r}")
        r = d.request("ocmw", "GET", f"/v1/decisions/{st['id']}", headers=['If-None-Match: "2"'])
        expect(r.status == 200 and r.json["version"] == 1, f"another tag: {r!r}")
        # another OCMW learns nothing, not even through a 304
        r = d.request("ocmw2", "GET", f"/v1/decisions/{st['id']}", headers=['If-None-Match: *'])
        expect(r.status == 404, f"another OCMW: {r!r}")

    @tap.case("PUT with If-Match in the ETag form: \"1\" -> 200 ETag \"2\"; then If-None-Match "
              "\"1\" -> 200 (changed); \"1\" again as If-Match -> 412; the bare 2 -> 200 \"3\"")
    def _():
        g = d.request("ocmw", "GET", f"/v1/decisions/{st['id']}")
        body = {k: v for k, v in g.json.items()
                if k not in ("id", "version", "status", "ocmw", "recorded_at")}
        body["reference"] = "IT/contract/2"
        r = d.request("ocmw", "PUT", f"/v1/decisions/{st['id']}", body,
                      headers=['If-Match: "1"'])
        expect(r.status == 200 and r.header("etag") == '"2"', f"PUT If-Match \"1\": {r!r}")
        r = d.request("ocmw", "GET", f"/v1/decisions/{st['id']}", headers=['If-None-Match: "1"'])
        expect(r.status == 200 and r.header("etag") == '"2"', f"after the change: {r!r}")
        body["reference"] = "IT/contract/3"
        r = d.request("ocmw", "PUT", f"/v1/decisions/{st['id']}", body,
                      headers=['If-Match: "1"'])
        expect(r.status == 412 and r.json.get("code") == "version_mismatch", f"stale: {r!r}")
        r = d.request("ocmw", "PUT", f"/v1/decisions/{st['id']}", body, headers=["If-Match: 2"])
        expect(r.status == 200 and r.header("etag") == '"3"', f"bare 2: {r!r}")

    @tap.case("GET /v1/agreements/{n}: ETag \"<number>\"; If-None-Match -> 304; after the void "
              "a new ETag \"<number>-void\" and 200 for the old one")
    def _():
        s = new_ssin()
        r = d.request("ocmw", "POST", "/v1/decisions",
                      decision(s, [cover("general_practice")]))
        expect(r.status == 201, f"decision: {r!r}")
        n = answer(ask(d, s, day(0)))["agreement"]
        g = d.request("provider", "GET", f"/v1/agreements/{n}")
        expect(g.status == 200 and g.header("etag") == f'"{n}"', f"GET: {g!r}")
        r = d.request("provider", "GET", f"/v1/agreements/{n}", headers=[f'If-None-Match: "{n}"'])
        expect(r.status == 304 and r.body == b"" and r.header("etag") == f'"{n}"', f"304: {r!r}")
        v = d.request("provider", "POST", f"/v1/agreements/{n}/void", {})
        expect(v.status == 200, f"void: {v!r}")
        r = d.request("provider", "GET", f"/v1/agreements/{n}", headers=[f'If-None-Match: "{n}"'])
        expect(r.status == 200 and r.header("etag") == f'"{n}-void"', f"after void: {r!r}")
        r = d.request("provider", "GET", f"/v1/agreements/{n}",
                      headers=[f'If-None-Match: "{n}-void"'])
        expect(r.status == 304, f"304 after void: {r!r}")

    @tap.case("the contract check fails on what the document does not say: an undocumented "
              "status, media type, or a body that breaks its schema")
    def _():
        with contract.deliberate() as got:
            bad = [
                contract.check("GET", "/v1/health", 418, {}, b""),
                contract.check("GET", "/v1/health", 200, {"content-type": "text/plain"}, b"up"),
                contract.check("GET", "/v1/health", 200, {"content-type": "application/json"},
                               b'{"status": 1}'),
                contract.check("GET", f"/v1/decisions/{st['id']}", 404,
                               {"content-type": "application/problem+json"}, b'{"type": 3}'),
                contract.check("GET", "/v1/no-such-route", 200,
                               {"content-type": "application/json"}, b"{}"),
            ]
        expect(all(bad), f"not all refused: {bad}")
        expect(len(got) == len(bad), f"{len(got)} failures recorded: {got}")
        with contract.deliberate() as got:
            ok = contract.check("GET", "/v1/health", 200, {"content-type": "application/json"},
                                b'{"status": "ok", "database": "up"}')
        expect(ok is None and not got, f"a good answer refused: {ok} {got}")

    @tap.case("GET /v1/beneficiaries/{ssin}/decisions: the auditor's full Decisions and the "
              "OCMW's DecisionSummaries each match exactly one branch of the oneOf")
    def _():
        g = d.request("ocmw", "GET", f"/v1/decisions/{st['id']}")
        ssin = g.json["beneficiary"]["ssin"]
        path = f"/v1/beneficiaries/{ssin}/decisions"
        pj = {"content-type": "application/json"}
        for who, full in (("auditor", True), ("ocmw", False), ("ocmw2", False)):
            r = d.request(who, "GET", path)
            expect(r.status == 200 and len(r.json["decisions"]) == 1, f"{who}: {r!r}")
            item = r.json["decisions"][0]
            expect(("beneficiary" in item) == full, f"{who}: full Decision? {item}")
            err = contract.check("GET", path, 200, pj, r.body)
            expect(err is None, f"{who}'s answer: {err}")
        # a summary that says more than a summary is no DecisionSummary (and no Decision)
        item = dict(item, reference="IT/leak")
        with contract.deliberate():
            err = contract.check("GET", path, 200, pj, json.dumps(
                {"ssin": ssin, "decisions": [item]}).encode())
        expect(err is not None, "a summary with a reference was taken")

    clean_exit(tap, d)
