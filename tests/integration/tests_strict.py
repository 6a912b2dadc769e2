"""Integration tests of the daemon's strictness about what a request says: query
parameters a resource does not take or that come twice, two Content-Type headers, and
every filter of an audit list at once (no limit on how many parameters are read).

Run as a group of run.py ("strict"), or alone:
    /usr/bin/python3 tests/integration/tests_strict.py --build build
"""

import json
import sys
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PRINCIPALS, Daemon, day, expect, new_ssin, read_http  # noqa: E402
from tests_api import coverage, decision_body, problem  # noqa: E402

OCMW_ORG = PRINCIPALS["ocmw"][1]
PROVIDER_ORG = PRINCIPALS["provider"][1]


def field_error(r, field, code):
    errs = (r.json or {}).get("errors") or []
    expect(any(e.get("field") == field and e.get("code") == code for e in errs),
           f"expected errors[] to hold {field}: {code}: {r!r}")


def all_consultation_filters(**over):
    q = {"ssin": new_ssin(), "provider": PROVIDER_ORG, "ocmw": OCMW_ORG,
         "service_from": day(-30), "service_to": day(30),
         "recorded_from": "2020-01-01T00:00:00Z", "recorded_to": "2100-01-01T00:00:00Z",
         "outcome": "covered", "limit": "5", "cursor": "A2000-00000000"}
    q.update(over)
    return "/v1/audit/consultations?" + urllib.parse.urlencode(q)


def run(env, tap):
    d = Daemon(env, "strict")

    @tap.case("medaidd starts and answers /v1/health")
    def _():
        d.start()

    if d.proc is None or d.proc.poll() is not None:
        return

    @tap.case("an unknown query parameter: 400 unknown_parameter, errors[] unknown_parameter")
    def _():
        r = d.request("auditor", "GET", "/v1/audit/consultations?from=2026-01-01")
        problem(r, 400, "unknown_parameter")
        field_error(r, "from", "unknown_parameter")

    @tap.case("a query parameter on a resource that takes none: 400 unknown_parameter")
    def _():
        r = d.request("ocmw", "GET", "/v1/health?x=1")
        problem(r, 400, "unknown_parameter")
        field_error(r, "x", "unknown_parameter")

    @tap.case("a repeated query parameter: 400 invalid_parameter, errors[] repeated_parameter")
    def _():
        r = d.request("auditor", "GET", "/v1/audit/consultations?limit=5&limit=6")
        problem(r, 400, "invalid_parameter")
        field_error(r, "limit", "repeated_parameter")

    @tap.case("the details of a query-parameter and a role refusal in the language asked "
              "(de, fr, nl), in English without Accept-Language")
    def _():
        want = {"de": ("ein Abfrageparameter gehört nicht zu denen, die diese Route annimmt",
                       "die Rolle ocmw darf dies nicht tun"),
                "fr": ("un paramètre de requête n'est pas de ceux que cette route accepte",
                       "le rôle ocmw ne peut pas faire ceci"),
                "nl": ("een queryparameter is er geen die deze route aanneemt",
                       "de rol ocmw mag dit niet doen")}
        for lang, (unknown, role) in want.items():
            h = (f"Accept-Language: {lang}",)
            r = d.request("ocmw", "GET", "/v1/health?x=1", headers=h)
            problem(r, 400, "unknown_parameter")
            expect(r.json.get("detail") == unknown, f"{lang}: {r.json!r}")
            r = d.request("ocmw", "GET", "/v1/audit/consultations", headers=h)
            problem(r, 403, "forbidden")
            expect(r.json.get("detail") == role, f"{lang}: {r.json!r}")
        r = d.request("ocmw", "GET", "/v1/health?x=1")
        expect(r.json.get("detail") == "a query parameter is not one this route takes", repr(r.json))

    @tap.case("all eight consultation filters with limit and cursor: each one is applied")
    def _():
        ssin = new_ssin()
        r = d.request("ocmw", "POST", "/v1/decisions", decision_body(ssin))
        expect(r.status == 201, f"decision: {r!r}")
        r = coverage(d, ssin, day(0))
        expect(r.status == 200 and r.json.get("covered") is True, f"coverage: {r!r}")
        agreement = r.json["agreement"]
        r = d.request("auditor", "GET", all_consultation_filters(ssin=ssin, service_from=day(0),
                                                                 service_to=day(0)))
        expect(r.status == 200, f"expected 200: {r!r}")
        got = [i.get("agreement") for i in (r.json or {}).get("items", [])]
        expect(got == [agreement], f"all filters matching: expected [{agreement}], got {got}")
        # each filter in turn made to miss: the one consultation is gone
        for name, miss in (("ssin", new_ssin()), ("provider", PRINCIPALS["provider2"][1]),
                           ("ocmw", "0207123407"), ("service_from", day(1)),
                           ("service_to", day(-1)), ("recorded_from", "2099-01-01T00:00:00Z"),
                           ("recorded_to", "2000-01-01T00:00:00Z"), ("outcome", "not_covered"),
                           ("cursor", agreement)):
            q = dict(ssin=ssin, service_from=day(0), service_to=day(0))
            q[name] = miss
            r = d.request("auditor", "GET", all_consultation_filters(**q))
            expect(r.status == 200 and r.json.get("items") == [],
                   f"with {name}={miss} the consultation should be filtered out: {r!r}")

    @tap.case("the tenth parameter (cursor) is read: a bad cursor after eight filters is 400")
    def _():
        r = d.request("auditor", "GET", all_consultation_filters(cursor="nonsense"))
        problem(r, 400, "invalid_parameter")
        field_error(r, "cursor", "invalid_value")

    @tap.case("two Content-Type headers: 400 bad_request")
    def _():
        body = json.dumps({}).encode()
        s = d.tls_socket("ocmw")
        try:
            s.sendall(b"POST /v1/decisions HTTP/1.1\r\nHost: localhost\r\n"
                      b"Content-Type: application/json\r\nContent-Type: text/csv\r\n"
                      b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            data, _closed = read_http(s, 5)
        finally:
            s.close()
        head = data.split(b"\r\n", 1)[0]
        expect(head.startswith(b"HTTP/1.1 400"), f"expected 400, got {data[:300]!r}")
        expect(b'"code":"bad_request"' in data, f"expected bad_request: {data[:500]!r}")

    @tap.case("medaidd exits 0 on SIGTERM")
    def _():
        rc = d.stop()
        expect(rc == 0, f"exit status {rc}\n{d.tail()}")


if __name__ == "__main__":
    import argparse

    import run as runner  # noqa: E402
    from harness import Env  # noqa: E402

    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    tap = runner.Tap()
    env = Env(a.build)
    try:
        env.setup()
        tap.prefix = "strict: "
        run(env, tap)
    finally:
        for dm in env.daemons:
            dm.kill()
        env.teardown()
    print(f"1..{tap.n}")
    sys.exit(1 if tap.failed else 0)
