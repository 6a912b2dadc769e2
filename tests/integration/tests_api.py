"""Integration tests: the HTTP API, identities and rights, bad input, the medaid client."""

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from harness import Daemon, PRINCIPALS, clean_exit, day, expect, new_ssin, read_http, started
from migrations_pinned import PINNED

OCMW_ORG = PRINCIPALS["ocmw"][1]


def decision_body(ssin, start=-10, end=170, covers=("general_practice",), reference=None):
    s, e = day(start), day(end)
    share = {"insurance_pct": 100, "patient_share_pct": 100}
    return {
        "kind": "coverage",
        "beneficiary": {"ssin": ssin, "death_date": None},
        "period": {"start": s, "end": e},
        "reference": reference or f"IT/{ssin[-5:]}",
        "urgent_attestation_required": True,
        "state_share": {
            "hospitalisation": dict(share),
            "ambulatory_hospital": dict(share),
            "other": {"insurance_pct": 100, "patient_share_pct": 0},
        },
        "covers": [{
            "care_type": ct,
            "period": {"start": s, "end": e},
            "ocmw_pays": {"insurance_part": "none", "patient_share": "partial",
                          "supplements": "none"},
            "patient_share_cap_cents": 5000,
            "prescription_required": False,
            "convention": False,
            "designated_providers": [],
        } for ct in covers],
    }


def subset(expected, actual, path="$"):
    """Every value of `expected` is in `actual` (null may be left out)."""
    if isinstance(expected, dict):
        expect(isinstance(actual, dict), f"{path}: expected an object, got {actual!r}")
        for k, v in expected.items():
            if v is None and actual.get(k) is None:
                continue
            expect(k in actual, f"{path}.{k}: missing")
            subset(v, actual[k], f"{path}.{k}")
    elif isinstance(expected, list):
        expect(isinstance(actual, list) and len(actual) == len(expected),
               f"{path}: expected {len(expected)} elements, got {actual!r}")
        for i, (a, b) in enumerate(zip(expected, actual)):
            subset(a, b, f"{path}[{i}]")
    else:
        expect(expected == actual, f"{path}: expected {expected!r}, got {actual!r}")


def problem(r, status, code, d=None, field=None, field_code=None):
    """r is an application/problem+json answer with this status and code."""
    expect(r.status == status, f"expected {status} {code}, got {r!r}")
    ct = r.header("content-type") or ""
    expect(ct.startswith("application/problem+json"), f"Content-Type {ct!r}: {r!r}")
    j = r.json
    expect(isinstance(j, dict) and j.get("code") == code, f"expected code {code}: {r!r}")
    expect(r.header("x-request-id"), f"no X-Request-Id: {r!r}")
    if field:
        errs = j.get("errors") or []
        expect(any(e.get("field") == field and (field_code is None or e.get("code") == field_code)
                   for e in errs if isinstance(e, dict)),
               f"no errors[] entry field={field} code={field_code}: {j!r}")
    elif field_code:
        errs = j.get("errors") or []
        expect(any(isinstance(e, dict) and e.get("code") == field_code for e in errs),
               f"no errors[] entry with code {field_code}: {j!r}")
    if d is not None:
        still_serving(d)
    return j


def still_serving(d):
    h = d.request("admin", "GET", "/v1/health", max_time=5)
    expect(h.status == 200, f"after that, /v1/health is not 200: {h!r}")


def coverage(d, ssin, service_date, care_type="general_practice", who="provider"):
    return d.request(who, "POST", "/v1/coverage",
                     {"ssin": ssin, "service_date": service_date, "care_type": care_type})


def not_covered(r, code):
    expect(r.status == 200, f"expected 200, got {r!r}")
    j = r.json or {}
    expect(j.get("covered") is False, f"expected covered false: {j!r}")
    expect(isinstance(j.get("agreement"), str) and j["agreement"], f"no agreement number: {j!r}")
    reason = j.get("reason") or {}
    expect(reason.get("code") == code, f"expected reason {code}: {j!r}")
    expect(reason.get("message"), f"no reason message: {j!r}")


def run(env, tap):
    # generous database waits: "50 concurrent connections" asserts that every one is
    # answered, not how fast (two pooled connections per worker, a sanitized daemon and
    # the other test runs on the same cores); the timeouts have their own tests (faults)
    d = Daemon(env, "api", max_body_bytes=65536, db_queue_timeout_ms=10000,
               db_wait_timeout_ms=20000)
    st = {}

    @tap.case("medaidd migrate recorded the pinned checksum of each released migration")
    def _():
        # the checksum daemon/migrate.c keeps is the one migrations_pinned.py pins
        rows = dict(line.split("|", 1) for line in env.psql(
            "SELECT name || '|' || checksum FROM schema_migration").splitlines())
        for name, pinned in PINNED.items():
            expect(rows.get(name) == pinned,
                   f"schema_migration {name}: {rows.get(name)!r}, pinned {pinned}")

    if not started(tap, d):
        return

    @tap.case("GET /v1/health as admin: 200 status ok, database up, X-Request-Id")
    def _():
        r = d.request("admin", "GET", "/v1/health")
        expect(r.status == 200, repr(r))
        expect(r.json == {"status": "ok", "database": "up"}, repr(r))
        expect(r.header("x-request-id"), f"no X-Request-Id: {r!r}")
        expect((r.header("content-type") or "").startswith("application/json"), repr(r))

    @tap.case("X-Request-Id sent by the client is echoed")
    def _():
        r = d.request("auditor", "GET", "/v1/health", headers=["X-Request-Id: it-echo-4711"])
        expect(r.status == 200 and r.header("x-request-id") == "it-echo-4711", repr(r))

    # ---- decisions --------------------------------------------------------------
    st["ssin"] = new_ssin()
    st["body"] = decision_body(st["ssin"])

    @tap.case("POST /v1/decisions as ocmw (curl): 201 with id, version, status, ocmw")
    def _():
        r = d.request("ocmw", "POST", "/v1/decisions", st["body"])
        expect(r.status == 201, repr(r))
        expect((r.header("content-type") or "").startswith("application/json"), repr(r))
        j = r.json
        expect(isinstance(j, dict), repr(r))
        st["created"] = j
        expect(isinstance(j.get("id"), str) and j["id"], f"no id: {j!r}")
        expect(j.get("version") == 1, f"version: {j!r}")
        expect(j.get("status") == "active", f"status: {j!r}")
        expect(j.get("ocmw") == OCMW_ORG, f"ocmw: {j!r}")
        expect(isinstance(j.get("recorded_at"), str) and j["recorded_at"], f"recorded_at: {j!r}")
        subset(st["body"], j)

    @tap.case("GET /v1/decisions/{id} as the owning ocmw: the stored decision, unchanged")
    def _():
        r = d.request("ocmw", "GET", f"/v1/decisions/{st['created']['id']}")
        expect(r.status == 200, repr(r))
        expect(r.json == st["created"], f"read back differs:\n{r.json!r}\n{st['created']!r}")

    @tap.case("GET /v1/decisions/{id} as auditor: 200")
    def _():
        r = d.request("auditor", "GET", f"/v1/decisions/{st['created']['id']}")
        expect(r.status == 200 and r.json == st["created"], repr(r))

    counts_before = {}

    @tap.case("snapshot of table counts before the refused requests")
    def _():
        counts_before.update(env.table_counts())
        expect(any("decision" in k for k in counts_before), f"no decision table: {counts_before}")

    @tap.case("GET decision as another OCMW: 404 not_found")
    def _():
        problem(d.request("ocmw2", "GET", f"/v1/decisions/{st['created']['id']}"), 404,
                "not_found", d)

    @tap.case("GET decision as provider: 403 forbidden")
    def _():
        problem(d.request("provider", "GET", f"/v1/decisions/{st['created']['id']}"), 403,
                "forbidden", d)

    @tap.case("GET decision as admin: 403 forbidden")
    def _():
        problem(d.request("admin", "GET", f"/v1/decisions/{st['created']['id']}"), 403,
                "forbidden", d)

    @tap.case("GET a decision that does not exist: 404 not_found")
    def _():
        problem(d.request("auditor", "GET", "/v1/decisions/D1999-99999999"), 404, "not_found", d)

    @tap.case("POST /v1/decisions as provider: 403 forbidden")
    def _():
        problem(d.request("provider", "POST", "/v1/decisions", decision_body(new_ssin())), 403,
                "forbidden", d)

    @tap.case("POST /v1/decisions with an \"ocmw\" field: 422, the OCMW comes from the certificate")
    def _():
        b = decision_body(new_ssin())
        b["ocmw"] = PRINCIPALS["ocmw2"][1]
        problem(d.request("ocmw", "POST", "/v1/decisions", b), 422, "validation_failed", d,
                field="ocmw")

    @tap.case("malformed JSON: 400 malformed_json")
    def _():
        problem(d.request("ocmw", "POST", "/v1/decisions", b'{"kind": "coverage", '), 400,
                "malformed_json", d)

    @tap.case("unknown field: 422 validation_failed, errors[].code unknown_field")
    def _():
        b = decision_body(new_ssin())
        b["colour"] = "blue"
        problem(d.request("ocmw", "POST", "/v1/decisions", b), 422, "validation_failed", d,
                field_code="unknown_field")

    @tap.case("bad SSIN checksum: 422, errors[] beneficiary.ssin invalid_ssin")
    def _():
        good = new_ssin()
        bad = good[:9] + f"{(int(good[9:]) + 1) % 100:02d}"
        problem(d.request("ocmw", "POST", "/v1/decisions", decision_body(bad)), 422,
                "validation_failed", d, field="beneficiary.ssin", field_code="invalid_ssin")

    @tap.case("body over max_body_bytes sent whole: the 413 body_too_large reaches the client")
    def _():
        b = decision_body(new_ssin())
        b["reference"] = "x" * 70000
        problem(d.request("ocmw", "POST", "/v1/decisions", b), 413, "body_too_large", d)

    @tap.case("Content-Length over max_body_bytes (body not sent yet): 413 body_too_large at once")
    def _():
        s = d.tls_socket("ocmw")
        try:
            s.sendall(b"POST /v1/decisions HTTP/1.1\r\nHost: localhost\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 70000\r\n\r\n")
            got, _closed = read_http(s, 5)
        finally:
            s.close()
        head, _, body = got.partition(b"\r\n\r\n")
        expect(head.startswith(b"HTTP/1.1 413"), f"got {got[:400]!r}")
        expect(b"application/problem+json" in head.lower(), f"got {got[:400]!r}")
        expect(b'"body_too_large"' in body, f"got {got[:400]!r}")
        still_serving(d)

    @tap.case("wrong Content-Type: 415 unsupported_media_type")
    def _():
        problem(d.request("ocmw", "POST", "/v1/decisions", json.dumps(decision_body(new_ssin())),
                          content_type="text/plain"), 415, "unsupported_media_type", d)

    @tap.case("unknown path: 404 problem not_found")
    def _():
        problem(d.request("ocmw", "GET", "/v1/no/such/thing"), 404, "not_found", d)
        problem(d.request("ocmw", "GET", "/nothing-here"), 404, "not_found", d)

    @tap.case("X-Request-Id is echoed on an error answer too")
    def _():
        r = d.request("provider", "GET", "/v1/decisions/D1999-00000001",
                      headers=["X-Request-Id: it-error-0815"])
        problem(r, 403, "forbidden")
        expect(r.header("x-request-id") == "it-error-0815", repr(r))

    @tap.case("wrong method on a known path: 405 method_not_allowed")
    def _():
        problem(d.request("admin", "DELETE", "/v1/health"), 405, "method_not_allowed", d)

    @tap.case("POST /v1/coverage as ocmw: 403 forbidden")
    def _():
        problem(coverage(d, st["ssin"], day(0), who="ocmw"), 403, "forbidden", d)

    @tap.case("nothing half-written: decision tables unchanged after the refused requests")
    def _():
        after = env.table_counts()
        diff = {k: (counts_before.get(k), v) for k, v in after.items()
                if "decision" in k and counts_before.get(k) != v}
        expect(counts_before and not diff, f"changed (before, after): {diff}")

    # ---- coverage ---------------------------------------------------------------
    @tap.case("coverage: covered (provider, general_practice, today) with agreement")
    def _():
        r = coverage(d, st["ssin"], day(0))
        expect(r.status == 200, repr(r))
        j = r.json or {}
        expect(j.get("covered") is True, f"not covered: {j!r}")
        expect(isinstance(j.get("agreement"), str) and j["agreement"], f"agreement: {j!r}")
        expect((j.get("decision") or {}).get("id") == st["created"]["id"], f"decision: {j!r}")
        expect((j.get("decision") or {}).get("ocmw") == OCMW_ORG, f"decision.ocmw: {j!r}")
        expect((j.get("cover") or {}).get("care_type") == "general_practice", f"cover: {j!r}")
        expect((j.get("cover") or {}).get("urgent_attestation_required") is True, f"cover: {j!r}")

    @tap.case("coverage: two answers get two different agreement numbers")
    def _():
        a = (coverage(d, st["ssin"], day(-1)).json or {}).get("agreement")
        b = (coverage(d, st["ssin"], day(-1)).json or {}).get("agreement")
        expect(a and b and a != b, f"{a!r} {b!r}")

    @tap.case("coverage: no_decision for a never-seen valid SSIN")
    def _():
        not_covered(coverage(d, new_ssin(), day(0)), "no_decision")

    @tap.case("coverage: no_active_decision for a date outside the period")
    def _():
        not_covered(coverage(d, st["ssin"], day(-20)), "no_active_decision")

    @tap.case("coverage: care_type_absent for a care type the decision does not cover")
    def _():
        not_covered(coverage(d, st["ssin"], day(0), care_type="pharmacy", who="provider2"),
                    "care_type_absent")

    @tap.case("coverage: service_date_in_future")
    def _():
        not_covered(coverage(d, st["ssin"], day(1)), "service_date_in_future")

    @tap.case("coverage: invalid SSIN is answered 200 covered:false invalid_ssin")
    def _():
        s = st["ssin"]
        bad = s[:9] + f"{(int(s[9:]) + 1) % 100:02d}"
        not_covered(coverage(d, bad, day(0)), "invalid_ssin")

    # ---- the medaid client --------------------------------------------------------
    if not env.medaid.exists():
        tap.result(False, "medaid client", f"{env.medaid} is missing")
    else:
        client_tests(env, tap, d, st)

    # ---- identities ---------------------------------------------------------------
    identity_tests(env, tap, d)

    # ---- load ---------------------------------------------------------------------
    @tap.case("50 concurrent connections (health and coverage) are all answered 200")
    def _():
        def one(i):
            if i % 2:
                return d.request("auditor", "GET", "/v1/health", max_time=30)
            return coverage(d, st["ssin"], day(0))
        with ThreadPoolExecutor(max_workers=50) as ex:
            results = list(ex.map(one, range(50)))
        bad = [r for r in results if r.status != 200]
        expect(not bad, f"{len(bad)} of 50 not 200, e.g. {bad[:3]!r}")

    clean_exit(tap, d)


def client_tests(env, tap, d, st):
    """The project's medaid client against the real daemon."""
    cs = {"ssin": new_ssin()}

    @tap.case("medaid decision create (ocmw): exit 0, prints the stored decision")
    def _():
        path = env.tmp / "client-decision.json"
        path.write_text(json.dumps(decision_body(cs["ssin"])))
        p = d.client("ocmw", "decision", "create", str(path))
        expect(p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        j = json.loads(p.stdout)
        expect(j.get("id") and j.get("version") == 1 and j.get("ocmw") == OCMW_ORG, repr(j))
        cs["created"] = j

    @tap.case("medaid decision show (ocmw): exit 0, same decision")
    def _():
        p = d.client("ocmw", "decision", "show", cs["created"]["id"])
        expect(p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        expect(json.loads(p.stdout) == cs["created"], f"differs: {p.stdout}")

    @tap.case("medaid decision show (another OCMW): refused, exit 2")
    def _():
        p = d.client("ocmw2", "decision", "show", cs["created"]["id"])
        expect(p.returncode == 2, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")

    @tap.case("medaid coverage (provider): covered, exit 0")
    def _():
        p = d.client("provider", "coverage", "--ssin", cs["ssin"], "--date", day(0),
                     "--care-type", "general_practice")
        expect(p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        j = json.loads(p.stdout)
        expect(j.get("covered") is True and j.get("agreement"), repr(j))

    @tap.case("medaid coverage (provider): not covered, exit 5")
    def _():
        p = d.client("provider", "coverage", "--ssin", cs["ssin"], "--date", day(0),
                     "--care-type", "pharmacy")
        expect(p.returncode == 5, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        j = json.loads(p.stdout)
        expect(j.get("covered") is False and j.get("agreement"), repr(j))

    @tap.case("medaid with an unknown certificate: exit 2")
    def _():
        p = d.client("unknown", "coverage", "--ssin", cs["ssin"], "--date", day(0),
                     "--care-type", "general_practice")
        expect(p.returncode == 2, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")


def s_client(d, who):
    """openssl s_client, sending one HTTP request; returns its stdout."""
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{d.port}", "-servername", "localhost",
            "-CAfile", str(d.env.certs / "ca.crt"), "-verify_return_error", "-quiet", "-ign_eof"]
    if who:
        crt, key = d.env.cert(who)
        args += ["-cert", str(crt), "-key", str(key)]
    req = b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    try:
        p = subprocess.run(args, input=req, capture_output=True, timeout=15)
        return p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return (e.stdout or b"").decode(errors="replace"), "timeout"


def identity_tests(env, tap, d):
    @tap.case("no client certificate: curl gets no HTTP answer")
    def _():
        r = d.request(None, "GET", "/v1/health", max_time=5)
        expect(r.status == 0 and r.rc != 0, f"expected a refused handshake: {r!r}")
        still_serving(d)

    @tap.case("no client certificate: openssl s_client gets no HTTP answer (with one: 200)")
    def _():
        out, err = s_client(d, "admin")
        expect("HTTP/1.1 200" in out, f"control with a certificate failed: {out!r} {err[-500:]!r}")
        out, err = s_client(d, None)
        expect("HTTP/" not in out, f"answered without a certificate: {out!r}")
        still_serving(d)

    @tap.case("certificate from another CA: refused")
    def _():
        r = d.request("other", "GET", "/v1/health", max_time=5)
        expect(r.status == 0 and r.rc != 0, f"expected a refused handshake: {r!r}")
        out, _err = s_client(d, "other")
        expect("HTTP/" not in out, f"answered: {out!r}")
        still_serving(d)

    @tap.case("CA-signed certificate never registered: 403 principal_unknown")
    def _():
        problem(d.request("unknown", "GET", "/v1/health"), 403, "principal_unknown", d)

    @tap.case("revoked principal: 200 before, 403 principal_revoked after medaidd principal revoke")
    def _():
        r = d.request("revokee", "GET", "/v1/health")
        expect(r.status == 200, f"before revocation: {r!r}")
        p = env.medaidd_cmd("principal", "revoke", "--cert", str(env.cert("revokee")[0]))
        expect(p.returncode == 0, f"principal revoke exited {p.returncode}: {p.stderr}")
        deadline = time.monotonic() + 3
        while True:
            r = d.request("revokee", "GET", "/v1/health")
            if r.status == 403 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        problem(r, 403, "principal_revoked", d)

    @tap.case("medaidd principal list shows the registered principals")
    def _():
        p = env.medaidd_cmd("principal", "list")
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        for _name, (_role, org) in PRINCIPALS.items():
            expect(org in p.stdout, f"{org} not listed:\n{p.stdout}")
