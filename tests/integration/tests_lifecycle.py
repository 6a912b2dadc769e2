"""Integration tests of the decision lifecycle (issue 3): versions (PUT with If-Match),
suspend / resume / stop, history, ownership, the beneficiary lookup, one decision per
person per day (also under a race), idempotency keys (also after a dropped connection),
non-retroactive coverage answers, and the medaid client's lifecycle commands."""

import copy
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from harness import Daemon, PRINCIPALS, clean_exit, day, expect, new_ssin, read_http, started
from tests_api import coverage, decision_body, not_covered, problem, still_serving

OCMW_ORG = PRINCIPALS["ocmw"][1]
OCMW2_ORG = PRINCIPALS["ocmw2"][1]
SERVER_FIELDS = ("id", "version", "status", "ocmw", "recorded_at")
ID_RE = re.compile(r"^D[0-9]{4}-[0-9]{8}$")


# ---------------------------------------------------------------------------
def editable(dec):
    """A stored decision as a PUT body: without the fields the server owns."""
    b = copy.deepcopy(dec)
    for k in SERVER_FIELDS:
        b.pop(k, None)
    return b


def principle_body(ssin, start=-10, end=170):
    return {
        "kind": "principle",
        "beneficiary": {"ssin": ssin, "death_date": None},
        "period": {"start": day(start), "end": day(end)},
        "reference": f"IT/P/{ssin[-5:]}",
        "urgent_attestation_required": False,
    }


def cover(care_type, start, end):
    return {
        "care_type": care_type,
        "period": {"start": day(start), "end": day(end)},
        "ocmw_pays": {"insurance_part": "none", "patient_share": "full", "supplements": "none"},
        "prescription_required": False,
        "convention": False,
        "designated_providers": [],
    }


def hdrs(if_match=None, key=None):
    h = []
    if if_match is not None:
        h.append(f"If-Match: {if_match}")
    if key is not None:
        h.append(f"Idempotency-Key: {key}")
    return h


def create(d, who, body, key=None):
    r = d.request(who, "POST", "/v1/decisions", body, headers=hdrs(key=key))
    expect(r.status == 201, f"create: expected 201, got {r!r}")
    j = r.json
    expect(isinstance(j, dict) and ID_RE.match(j.get("id") or "") and j.get("version") == 1,
           f"create: {r!r}")
    return j


def put(d, who, did, body, if_match=None, key=None):
    return d.request(who, "PUT", f"/v1/decisions/{did}", body, headers=hdrs(if_match, key))


def act(d, who, did, verb, body=None, if_match=None, key=None):
    """POST /v1/decisions/{id}/{verb}; body None = no body at all."""
    return d.request(who, "POST", f"/v1/decisions/{did}/{verb}", body,
                     headers=hdrs(if_match, key))


def ok_version(r, status, did, version, dec_status):
    expect(r.status == status, f"expected {status}, got {r!r}")
    j = r.json
    expect(isinstance(j, dict), repr(r))
    expect(j.get("id") == did, f"id changed: {j!r}")
    expect(j.get("version") == version, f"expected version {version}: {j!r}")
    expect(j.get("status") == dec_status, f"expected status {dec_status}: {j!r}")
    return j


def refused_422(r, code, d=None):
    """422 whose code, or one of whose errors[].code, is `code`."""
    expect(r.status == 422, f"expected 422 ({code}), got {r!r}")
    expect((r.header("content-type") or "").startswith("application/problem+json"), repr(r))
    j = r.json or {}
    codes = {j.get("code")} | {e.get("code") for e in (j.get("errors") or [])
                                if isinstance(e, dict)}
    expect(code in codes, f"expected {code} in code/errors[]: {j!r}")
    if d is not None:
        still_serving(d)
    return j


def current(d, did, who="ocmw"):
    r = d.request(who, "GET", f"/v1/decisions/{did}")
    expect(r.status == 200, f"GET {did}: {r!r}")
    return r.json


def rows(env, ssin, table="decision"):
    if table == "decision":
        return int(env.psql(f"SELECT count(*) FROM decision WHERE ssin = '{ssin}'"))
    return int(env.psql("SELECT count(*) FROM decision_version v JOIN decision d "
                        f"ON d.id = v.decision_id WHERE d.ssin = '{ssin}'"))


def covered(r, version=None, did=None):
    expect(r.status == 200, f"coverage: expected 200, got {r!r}")
    j = r.json or {}
    expect(j.get("covered") is True, f"expected covered: {j!r}")
    dec = j.get("decision") or {}
    if did is not None:
        expect(dec.get("id") == did, f"decision.id: {j!r}")
    if version is not None:
        expect(dec.get("version") == version, f"expected decision.version {version}: {j!r}")
    return j


def raw_http(method, path, body=b"", headers=()):
    req = (f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
           f"Content-Length: {len(body)}\r\n").encode()
    if body:
        req += b"Content-Type: application/json\r\n"
    for h in headers:
        req += h.encode() + b"\r\n"
    return req + b"\r\n" + body


def parse_http(data):
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.1 (\d{3})", head)
    return (int(m.group(1)) if m else 0), body


def concurrent_raw(d, whos, request):
    """One TLS connection per principal in `whos`, all handshaken first, then the same
    request sent on all of them at once; returns [(status, body)]."""
    socks = [d.tls_socket(w) for w in whos]
    barrier = threading.Barrier(len(socks))

    def one(i):
        try:
            barrier.wait(10)
            socks[i].sendall(request)
            data, _ = read_http(socks[i], 20)
            return parse_http(data)
        finally:
            socks[i].close()

    with ThreadPoolExecutor(max_workers=len(socks)) as ex:
        return list(ex.map(one, range(len(socks))))


# ---------------------------------------------------------------------------
def run(env, tap):
    d = Daemon(env, "lifecycle", workers=4, db_pool_size=4)

    if not started(tap, d):
        return

    versions_tests(env, tap, d)
    status_tests(env, tap, d)
    access_tests(env, tap, d)
    overlap_tests(env, tap, d)
    idempotency_tests(env, tap, d)
    coverage_tests(env, tap, d)
    if env.medaid.exists():
        client_tests(env, tap, d)
    else:
        tap.result(False, "medaid client", f"{env.medaid} is missing")

    clean_exit(tap, d)


# ---- PUT: versions ------------------------------------------------------------
def versions_tests(env, tap, d):
    st = {}

    @tap.case("PUT without If-Match: 428 precondition_required, nothing recorded")
    def _():
        st["ssin"] = new_ssin()
        st["v1"] = create(d, "ocmw", decision_body(st["ssin"], covers=("general_practice",
                                                                        "pharmacy")))
        b = editable(st["v1"])
        b["reference"] = "IT/changed"
        problem(put(d, "ocmw", st["v1"]["id"], b), 428, "precondition_required", d)
        expect(current(d, st["v1"]["id"]) == st["v1"], "the decision changed")
        expect(rows(env, st["ssin"], "version") == 1, "a version was recorded")

    @tap.case("PUT with If-Match: 200, version 2, same id, status unchanged, new content")
    def _():
        b = editable(st["v1"])
        b["reference"] = "IT/changed"
        b["covers"][0]["patient_share_cap_cents"] = 7500
        r = put(d, "ocmw", st["v1"]["id"], b, if_match=1)
        j = ok_version(r, 200, st["v1"]["id"], 2, "active")
        expect(j.get("ocmw") == OCMW_ORG, f"ocmw: {j!r}")
        expect(j.get("reference") == "IT/changed", f"reference: {j!r}")
        expect(j["covers"][0].get("patient_share_cap_cents") == 7500, f"cap: {j!r}")
        expect(j.get("recorded_at"), f"recorded_at: {j!r}")
        st["v2"] = j
        expect(current(d, st["v1"]["id"]) == j, "GET does not return the new version")

    @tap.case("GET ?version=1 and ?version=2: each version exactly as stored")
    def _():
        did = st["v1"]["id"]
        r1 = d.request("ocmw", "GET", f"/v1/decisions/{did}?version=1")
        expect(r1.status == 200 and r1.json == st["v1"], f"version 1: {r1!r}")
        r2 = d.request("auditor", "GET", f"/v1/decisions/{did}?version=2")
        expect(r2.status == 200 and r2.json == st["v2"], f"version 2: {r2!r}")

    @tap.case("PUT with a stale If-Match: 412 version_mismatch, current_version 2")
    def _():
        b = editable(st["v1"])
        b["reference"] = "IT/stale"
        j = problem(put(d, "ocmw", st["v1"]["id"], b, if_match=1), 412, "version_mismatch", d)
        expect(j.get("current_version") == 2, f"current_version: {j!r}")
        expect(current(d, st["v1"]["id"]) == st["v2"], "the decision changed")

    @tap.case("PUT with id/version/status/ocmw/recorded_at in the body: 422 read_only_field each")
    def _():
        for k in SERVER_FIELDS:
            b = editable(st["v2"])
            b[k] = st["v2"][k]
            problem(put(d, "ocmw", st["v1"]["id"], b, if_match=2), 422, "validation_failed",
                    field=k, field_code="read_only_field")
        expect(current(d, st["v1"]["id"]) == st["v2"], "the decision changed")

    @tap.case("PUT changing kind or beneficiary.ssin: 422 immutable_field")
    def _():
        b = editable(st["v2"])
        b["beneficiary"]["ssin"] = new_ssin()
        problem(put(d, "ocmw", st["v1"]["id"], b, if_match=2), 422, "validation_failed",
                field="beneficiary.ssin", field_code="immutable_field")
        b = principle_body(st["ssin"], start=-10, end=170)
        problem(put(d, "ocmw", st["v1"]["id"], b, if_match=2), 422, "validation_failed",
                field="kind", field_code="immutable_field")
        expect(current(d, st["v1"]["id"]) == st["v2"], "the decision changed")

    def retro(name, mutate, start=-10, end=170, covers=("general_practice", "pharmacy")):
        @tap.case(f"PUT retroactive: {name}: 422 retroactive_change, nothing recorded")
        def _():
            ssin = new_ssin()
            v1 = create(d, "ocmw", decision_body(ssin, start=start, end=end, covers=covers))
            b = editable(v1)
            mutate(b)
            problem(put(d, "ocmw", v1["id"], b, if_match=1), 422, "validation_failed",
                    field_code="retroactive_change")
            expect(current(d, v1["id"]) == v1, "the decision changed")
            expect(rows(env, ssin, "version") == 1, "a version was recorded")

    def move_start(b, to):
        b["period"]["start"] = day(to)
        for c in b["covers"]:
            c["period"]["start"] = day(to)

    def set_end(b, to):
        b["period"]["end"] = day(to)
        for c in b["covers"]:
            c["period"]["end"] = day(to)

    retro("moving a start that is in the past (-10 to -9)", lambda b: move_start(b, -9))
    retro("moving a start that is in the past to the future (-10 to +2)",
          lambda b: move_start(b, 2))
    retro("moving a future start into the past (+5 to -1)", lambda b: move_start(b, -1),
          start=5, end=60)
    retro("shortening the end to yesterday", lambda b: set_end(b, -1))
    retro("shortening one cover's end to yesterday",
          lambda b: b["covers"][1]["period"].__setitem__("end", day(-1)))
    retro("extending a period that ended 3 days ago", lambda b: set_end(b, 30),
          start=-20, end=-3)
    retro("adding a cover that starts 5 days ago",
          lambda b: b["covers"].append(cover("paramedical", -5, 170)))

    @tap.case("PUT allowed: future start moved to another future day, cover added from today, "
              "a cover removed, end extended, end shortened to today")
    def _():
        ssin = new_ssin()
        v1 = create(d, "ocmw", decision_body(ssin, start=5, end=60))
        b = editable(v1)
        move_start(b, 3)
        r = put(d, "ocmw", v1["id"], b, if_match=1)
        j = ok_version(r, 200, v1["id"], 2, "active")
        expect(j["period"]["start"] == day(3), f"start: {j!r}")

        ssin = new_ssin()
        v1 = create(d, "ocmw", decision_body(ssin, covers=("general_practice", "pharmacy")))
        b = editable(v1)
        b["covers"].append(cover("paramedical", 0, 170))
        j = ok_version(put(d, "ocmw", v1["id"], b, if_match=1), 200, v1["id"], 2, "active")
        expect(sorted(c["care_type"] for c in j["covers"])
               == ["general_practice", "paramedical", "pharmacy"], f"covers: {j!r}")
        b = editable(j)
        b["covers"] = [c for c in b["covers"] if c["care_type"] != "pharmacy"]
        j = ok_version(put(d, "ocmw", v1["id"], b, if_match=2), 200, v1["id"], 3, "active")
        expect(len(j["covers"]) == 2, f"covers: {j!r}")
        b = editable(j)
        set_end(b, 200)
        j = ok_version(put(d, "ocmw", v1["id"], b, if_match=3), 200, v1["id"], 4, "active")
        expect(j["period"]["end"] == day(200), f"end: {j!r}")
        b = editable(j)
        set_end(b, 0)
        j = ok_version(put(d, "ocmw", v1["id"], b, if_match=4), 200, v1["id"], 5, "active")
        expect(j["period"]["end"] == day(0), f"end: {j!r}")
        expect(rows(env, ssin, "version") == 5, "expected 5 versions in the database")

    @tap.case("PUT allowed: extending a period that ended yesterday")
    def _():
        ssin = new_ssin()
        v1 = create(d, "ocmw", decision_body(ssin, start=-20, end=-1))
        b = editable(v1)
        set_end(b, 30)
        j = ok_version(put(d, "ocmw", v1["id"], b, if_match=1), 200, v1["id"], 2, "active")
        expect(j["period"]["end"] == day(30), f"end: {j!r}")


# ---- suspend / resume / stop ----------------------------------------------------
def status_tests(env, tap, d):
    st = {}

    @tap.case("suspend (no body): 200 version 2 suspended; suspend again: 409 invalid_status")
    def _():
        st["ssin"] = new_ssin()
        st["v1"] = create(d, "ocmw", decision_body(st["ssin"], covers=("general_practice",
                                                                        "pharmacy")))
        did = st["v1"]["id"]
        r = act(d, "ocmw", did, "suspend")
        j = ok_version(r, 200, did, 2, "suspended")
        expect(editable(j) == editable(st["v1"]), f"suspend changed the content: {j!r}")
        problem(act(d, "ocmw", did, "suspend", {}), 409, "invalid_status", d)
        expect(current(d, did)["version"] == 2, "a version was recorded")

    @tap.case("resume ({}): 200 version 3 active; resume again: 409 invalid_status")
    def _():
        did = st["v1"]["id"]
        ok_version(act(d, "ocmw", did, "resume", {}), 200, did, 3, "active")
        problem(act(d, "ocmw", did, "resume", {}), 409, "invalid_status", d)
        problem(act(d, "ocmw", did, "resume"), 409, "invalid_status", d)

    @tap.case("suspend with a stale If-Match: 412 version_mismatch current_version 3; "
              "with the right one: 200")
    def _():
        did = st["v1"]["id"]
        j = problem(act(d, "ocmw", did, "suspend", {}, if_match=2), 412, "version_mismatch", d)
        expect(j.get("current_version") == 3, f"current_version: {j!r}")
        expect(current(d, did)["status"] == "active", "suspended anyway")
        ok_version(act(d, "ocmw", did, "suspend", {}, if_match=3), 200, did, 4, "suspended")
        ok_version(act(d, "ocmw", did, "resume", None, if_match=4), 200, did, 5, "active")

    @tap.case("stop: end yesterday 422 retroactive_change; after the end 422 stop_after_end")
    def _():
        did = st["v1"]["id"]
        refused_422(act(d, "ocmw", did, "stop", {"end": day(-1)}), "retroactive_change", d)
        refused_422(act(d, "ocmw", did, "stop", {"end": day(171)}), "stop_after_end", d)
        expect(current(d, did)["version"] == 5, "a version was recorded")

    @tap.case("stop before a future start: 422 stop_before_start")
    def _():
        v1 = create(d, "ocmw", decision_body(new_ssin(), start=5, end=60))
        refused_422(act(d, "ocmw", v1["id"], "stop", {"end": day(2)}), "stop_before_start", d)
        expect(current(d, v1["id"]) == v1, "the decision changed")

    @tap.case("stop with a stale If-Match: 412 version_mismatch")
    def _():
        did = st["v1"]["id"]
        j = problem(act(d, "ocmw", did, "stop", {"end": day(10)}, if_match=4), 412,
                    "version_mismatch", d)
        expect(j.get("current_version") == 5, f"current_version: {j!r}")

    @tap.case("stop (end +10): 200 stopped, period and cover ends cut to the stop date")
    def _():
        did = st["v1"]["id"]
        b = editable(current(d, did))
        b["covers"][1]["period"]["end"] = day(5)  # one cover ends before the stop date
        ok_version(put(d, "ocmw", did, b, if_match=5), 200, did, 6, "active")
        j = ok_version(act(d, "ocmw", did, "stop", {"end": day(10)}, if_match=6), 200, did, 7,
                       "stopped")
        expect(j["period"] == {"start": day(-10), "end": day(10)}, f"period: {j!r}")
        ends = {c["care_type"]: c["period"]["end"] for c in j["covers"]}
        expect(ends == {"general_practice": day(10), "pharmacy": day(5)}, f"cover ends: {ends}")
        expect(current(d, did) == j, "GET differs from the stop answer")

    @tap.case("a stopped decision: stop, suspend, resume, PUT all 409 invalid_status")
    def _():
        did = st["v1"]["id"]
        problem(act(d, "ocmw", did, "stop", {"end": day(5)}), 409, "invalid_status", d)
        problem(act(d, "ocmw", did, "suspend", {}), 409, "invalid_status", d)
        problem(act(d, "ocmw", did, "resume", {}), 409, "invalid_status", d)
        b = editable(current(d, did))
        b["reference"] = "IT/after-stop"
        problem(put(d, "ocmw", did, b, if_match=7), 409, "invalid_status", d)
        expect(current(d, did)["version"] == 7, "a version was recorded")

    @tap.case("stop a suspended decision (end today): 200 stopped")
    def _():
        v1 = create(d, "ocmw", decision_body(new_ssin()))
        ok_version(act(d, "ocmw", v1["id"], "suspend"), 200, v1["id"], 2, "suspended")
        j = ok_version(act(d, "ocmw", v1["id"], "stop", {"end": day(0)}), 200, v1["id"], 3,
                       "stopped")
        expect(j["period"]["end"] == day(0), f"end: {j!r}")

    @tap.case("history (owner and auditor): every version, oldest first, change, recorded_by, "
              "decision equal to GET ?version=n")
    def _():
        did = st["v1"]["id"]
        r = d.request("ocmw", "GET", f"/v1/decisions/{did}/history")
        expect(r.status == 200, repr(r))
        h = r.json or {}
        expect(set(h) == {"id", "versions"} and h["id"] == did, f"history: {h!r}")
        vs = h["versions"]
        expect([v.get("version") for v in vs] == [1, 2, 3, 4, 5, 6, 7],
               f"versions: {[v.get('version') for v in vs]}")
        expect([v.get("change") for v in vs]
               == ["create", "suspend", "resume", "suspend", "resume", "update", "stop"],
               f"changes: {[v.get('change') for v in vs]}")
        for v in vs:
            expect(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$",
                            v.get("recorded_at") or ""), f"recorded_at: {v!r}")
            rb = v.get("recorded_by") or {}
            expect(isinstance(rb.get("principal"), int) and rb.get("role") == "ocmw"
                   and rb.get("organisation") == OCMW_ORG and rb.get("name") == "integration ocmw",
                   f"recorded_by: {rb!r}")
            g = d.request("ocmw", "GET", f"/v1/decisions/{did}?version={v['version']}")
            expect(g.status == 200 and g.json == v.get("decision"),
                   f"version {v['version']}: history {v.get('decision')!r} GET {g!r}")
        expect(vs[0]["decision"] == st["v1"], "version 1 in the history differs from the POST")
        a = d.request("auditor", "GET", f"/v1/decisions/{did}/history")
        expect(a.status == 200 and a.json == h, f"auditor's history differs: {a!r}")


# ---- who may do what ------------------------------------------------------------
def access_tests(env, tap, d):
    st = {}

    def endpoints(did):
        v = st["v1"]
        b = editable(v)
        return [
            ("GET", f"/v1/decisions/{did}", None, []),
            ("GET", f"/v1/decisions/{did}?version=1", None, []),
            ("GET", f"/v1/decisions/{did}/history", None, []),
            ("PUT", f"/v1/decisions/{did}", b, ["If-Match: 1"]),
            ("POST", f"/v1/decisions/{did}/suspend", {}, []),
            ("POST", f"/v1/decisions/{did}/resume", {}, []),
            ("POST", f"/v1/decisions/{did}/stop", {"end": day(10)}, []),
        ]

    @tap.case("another OCMW: 404 not_found on GET, ?version, history, PUT, suspend, resume, stop")
    def _():
        st["ssin"] = new_ssin()
        st["v1"] = create(d, "ocmw", decision_body(st["ssin"]))
        for m, p, b, h in endpoints(st["v1"]["id"]):
            r = d.request("ocmw2", m, p, b, headers=h)
            problem(r, 404, "not_found")
            expect(OCMW_ORG.encode() not in r.body and st["ssin"].encode() not in r.body,
                   f"{m} {p}: the 404 tells about the decision: {r!r}")
        expect(current(d, st["v1"]["id"]) == st["v1"], "the decision changed")

    @tap.case("provider: 403 forbidden on every decision endpoint and the beneficiary lookup")
    def _():
        for m, p, b, h in endpoints(st["v1"]["id"]) + [
                ("GET", f"/v1/beneficiaries/{st['ssin']}/decisions", None, [])]:
            problem(d.request("provider", m, p, b, headers=h), 403, "forbidden")
        expect(current(d, st["v1"]["id"]) == st["v1"], "the decision changed")

    @tap.case("auditor: reads (GET, ?version, history) 200; writes (PUT, suspend, resume, stop) "
              "403 forbidden")
    def _():
        for m, p, b, h in endpoints(st["v1"]["id"]):
            r = d.request("auditor", m, p, b, headers=h)
            if m == "GET":
                expect(r.status == 200, f"{m} {p}: {r!r}")
            else:
                problem(r, 403, "forbidden")
        expect(current(d, st["v1"]["id"]) == st["v1"], "the decision changed")
        still_serving(d)

    @tap.case("beneficiary lookup: each OCMW sees every OCMW's decisions as summaries "
              "(exactly id, ocmw, kind, period, status)")
    def _():
        p2 = create(d, "ocmw2", principle_body(st["ssin"]))
        st["p2"] = p2
        want = sorted([
            {"id": st["v1"]["id"], "ocmw": OCMW_ORG, "kind": "coverage",
             "period": st["v1"]["period"], "status": "active"},
            {"id": p2["id"], "ocmw": OCMW2_ORG, "kind": "principle",
             "period": p2["period"], "status": "active"},
        ], key=lambda x: x["id"])
        for who in ("ocmw", "ocmw2"):
            r = d.request(who, "GET", f"/v1/beneficiaries/{st['ssin']}/decisions")
            expect(r.status == 200, f"{who}: {r!r}")
            j = r.json or {}
            expect(set(j) == {"ssin", "decisions"} and j["ssin"] == st["ssin"], f"{who}: {j!r}")
            got = sorted(j["decisions"], key=lambda x: x.get("id", ""))
            expect(got == want, f"{who}: expected {want!r}\ngot {got!r}")

    @tap.case("beneficiary lookup as auditor: the full stored decisions")
    def _():
        r = d.request("auditor", "GET", f"/v1/beneficiaries/{st['ssin']}/decisions")
        expect(r.status == 200, repr(r))
        j = r.json or {}
        expect(j.get("ssin") == st["ssin"], repr(j))
        got = sorted(j.get("decisions") or [], key=lambda x: x.get("id", ""))
        want = sorted([st["v1"], st["p2"]], key=lambda x: x["id"])
        expect(got == want, f"expected {want!r}\ngot {got!r}")

    @tap.case("beneficiary lookup: no decisions = 200 empty list; invalid SSIN 400 "
              "invalid_parameter")
    def _():
        s = new_ssin()
        r = d.request("ocmw", "GET", f"/v1/beneficiaries/{s}/decisions")
        expect(r.status == 200 and r.json == {"ssin": s, "decisions": []}, repr(r))
        bad = s[:9] + f"{(int(s[9:]) + 1) % 100:02d}"
        for x in (bad, "1234", "abcdefghijk"):
            problem(d.request("ocmw", "GET", f"/v1/beneficiaries/{x}/decisions"), 400,
                    "invalid_parameter")
        still_serving(d)


# ---- one decision per person per day ---------------------------------------------
def overlap_tests(env, tap, d):
    st = {}

    @tap.case("overlapping coverage decision from another OCMW: 409 decision_overlap, "
              "conflict is exactly {decision, ocmw}")
    def _():
        st["ssin"] = new_ssin()
        st["v1"] = create(d, "ocmw", decision_body(st["ssin"], start=-10, end=30))
        r = d.request("ocmw2", "POST", "/v1/decisions",
                      decision_body(st["ssin"], start=20, end=60))
        j = problem(r, 409, "decision_overlap", d)
        expect(j.get("conflict") == {"decision": st["v1"]["id"], "ocmw": OCMW_ORG},
               f"conflict: {j!r}")
        for secret in (st["v1"]["reference"], day(-10), day(30)):
            expect(secret.encode() not in r.body, f"the 409 discloses {secret!r}: {r!r}")
        expect(rows(env, st["ssin"]) == 1, "a second decision was recorded")

    @tap.case("overlapping coverage decision from the same OCMW: 409 decision_overlap")
    def _():
        j = problem(d.request("ocmw", "POST", "/v1/decisions",
                              decision_body(st["ssin"], start=0, end=5)), 409,
                    "decision_overlap", d)
        expect(j.get("conflict") == {"decision": st["v1"]["id"], "ocmw": OCMW_ORG},
               f"conflict: {j!r}")
        expect(rows(env, st["ssin"]) == 1, "a second decision was recorded")

    @tap.case("a principle decision may overlap a coverage decision; a second principle "
              "decision may not")
    def _():
        p = create(d, "ocmw2", principle_body(st["ssin"], start=-5, end=100))
        j = problem(d.request("ocmw", "POST", "/v1/decisions",
                              principle_body(st["ssin"], start=50, end=60)), 409,
                    "decision_overlap", d)
        expect(j.get("conflict") == {"decision": p["id"], "ocmw": OCMW2_ORG}, f"conflict: {j!r}")
        expect(rows(env, st["ssin"]) == 2, "expected 2 decisions")

    @tap.case("adjacent coverage decision (the day after the end): 201")
    def _():
        create(d, "ocmw2", decision_body(st["ssin"], start=31, end=60))

    @tap.case("after a stop, another OCMW may cover the following days, not the stopped ones")
    def _():
        s = new_ssin()
        v1 = create(d, "ocmw", decision_body(s, start=-10, end=100))
        ok_version(act(d, "ocmw", v1["id"], "stop", {"end": day(10)}), 200, v1["id"], 2,
                   "stopped")
        j = problem(d.request("ocmw2", "POST", "/v1/decisions", decision_body(s, start=10, end=40)),
                    409, "decision_overlap")
        expect(j.get("conflict") == {"decision": v1["id"], "ocmw": OCMW_ORG}, f"conflict: {j!r}")
        create(d, "ocmw2", decision_body(s, start=11, end=40))

    @tap.case("race, 3 rounds: 20 concurrent POSTs (10 ocmw, 10 ocmw2, own TLS connections) "
              "for one SSIN: exactly one 201, 19 409 decision_overlap, one row")
    def _():
        n = 20
        for rnd in range(3):
            s = new_ssin()
            body = json.dumps(decision_body(s)).encode()
            res = concurrent_raw(d, ["ocmw" if i % 2 else "ocmw2" for i in range(n)],
                                 raw_http("POST", "/v1/decisions", body))
            statuses = sorted(st_ for st_, _ in res)
            expect(statuses.count(201) == 1 and statuses.count(409) == n - 1,
                   f"round {rnd}: statuses: {statuses}\n"
                   f"{[b[:200] for st_, b in res if st_ not in (201, 409)][:3]}")
            won = json.loads(next(b for st_, b in res if st_ == 201))
            for st_, b in res:
                if st_ == 409:
                    j = json.loads(b)
                    expect(j.get("code") == "decision_overlap"
                           and j.get("conflict", {}).get("decision") == won["id"],
                           f"round {rnd}: 409: {j!r}")
            expect(rows(env, s) == 1, f"round {rnd}: {rows(env, s)} rows for the SSIN")
        still_serving(d)


# ---- idempotency keys --------------------------------------------------------------
def idempotency_tests(env, tap, d):
    st = {}

    @tap.case("POST twice with one Idempotency-Key: same 201, byte-identical body, one decision")
    def _():
        st["ssin"] = new_ssin()
        st["key"] = f"it-key-{st['ssin']}"
        st["body"] = decision_body(st["ssin"])
        a = d.request("ocmw", "POST", "/v1/decisions", st["body"], headers=hdrs(key=st["key"]))
        expect(a.status == 201, repr(a))
        b = d.request("ocmw", "POST", "/v1/decisions", st["body"], headers=hdrs(key=st["key"]))
        expect(b.status == 201, f"retry: {b!r}")
        expect(a.body == b.body, f"bodies differ:\n{a.body!r}\n{b.body!r}")
        expect(rows(env, st["ssin"]) == 1, f"{rows(env, st['ssin'])} decisions")
        st["first"] = a.json

    @tap.case("same key, different body: 422 idempotency_key_reused, nothing recorded")
    def _():
        b = copy.deepcopy(st["body"])
        b["reference"] = "IT/other"
        problem(d.request("ocmw", "POST", "/v1/decisions", b, headers=hdrs(key=st["key"])), 422,
                "idempotency_key_reused", d)
        s2 = new_ssin()
        problem(d.request("ocmw", "POST", "/v1/decisions", decision_body(s2),
                          headers=hdrs(key=st["key"])), 422, "idempotency_key_reused", d)
        expect(rows(env, s2) == 0, "a decision was recorded")
        expect(current(d, st["first"]["id"]) == st["first"], "the decision changed")

    @tap.case("keys are per OCMW: ocmw2 uses the same key string for its own decision: 201")
    def _():
        s2 = new_ssin()
        r = d.request("ocmw2", "POST", "/v1/decisions", decision_body(s2),
                      headers=hdrs(key=st["key"]))
        expect(r.status == 201, repr(r))
        j = r.json
        expect(j["id"] != st["first"]["id"] and j["ocmw"] == OCMW2_ORG, repr(j))
        expect(rows(env, s2) == 1, "not recorded")

    @tap.case("invalid Idempotency-Key (256 characters, a space, non-ASCII): 400, nothing recorded")
    def _():
        s2 = new_ssin()
        for k in ("k" * 256, "two words", "caf\u00e9"):
            r = d.request("ocmw", "POST", "/v1/decisions", decision_body(s2),
                          headers=[f"Idempotency-Key: {k}"])
            problem(r, 400, "invalid_parameter")
        r = d.request("ocmw", "POST", "/v1/decisions", decision_body(s2),
                      headers=[f"Idempotency-Key: {'k' * 255}"])
        expect(r.status == 201, f"a 255-character key: {r!r}")
        expect(rows(env, s2) == 1, "expected one decision")

    @tap.case("PUT, suspend, resume, stop repeated with their keys: the first answers again, "
              "byte-identical, no new version")
    def _():
        did = st["first"]["id"]
        k = st["key"]
        b = editable(st["first"])
        b["reference"] = "IT/put-once"
        steps = [
            ("PUT", f"/v1/decisions/{did}", b, hdrs(1, k + "-put"), 2),
            ("POST", f"/v1/decisions/{did}/suspend", {}, hdrs(key=k + "-suspend"), 3),
            ("POST", f"/v1/decisions/{did}/resume", {}, hdrs(key=k + "-resume"), 4),
            ("POST", f"/v1/decisions/{did}/stop", {"end": day(20)}, hdrs(key=k + "-stop"), 5),
        ]
        for m, p, body, h, v in steps:
            r1 = d.request("ocmw", m, p, body, headers=h)
            expect(r1.status == 200 and (r1.json or {}).get("version") == v, f"{p}: {r1!r}")
            r2 = d.request("ocmw", m, p, body, headers=h)
            expect(r2.status == 200 and r2.body == r1.body,
                   f"{p} repeated:\n{r1!r}\n{r2!r}")
            expect(current(d, did)["version"] == v, f"{p} repeated made a new version")
        expect(rows(env, st["ssin"], "version") == 5, "expected 5 versions")

    @tap.case("dropped connection: POST with a key over raw TLS, close unread; the retry with "
              "curl and the same key: 201, one decision")
    def _():
        s = new_ssin()
        key = f"it-drop-{s}"
        body = decision_body(s)
        sock = d.tls_socket("ocmw")
        try:
            sock.sendall(raw_http("POST", "/v1/decisions", json.dumps(body).encode(),
                                  [f"Idempotency-Key: {key}"]))
        finally:
            sock.close()
        time.sleep(0.3)
        r = d.request("ocmw", "POST", "/v1/decisions", body, headers=hdrs(key=key))
        expect(r.status == 201, f"retry: {r!r}")
        expect(ID_RE.match((r.json or {}).get("id") or ""), repr(r))
        expect(rows(env, s) == 1, f"{rows(env, s)} decisions for the SSIN")
        r2 = d.request("ocmw", "POST", "/v1/decisions", body, headers=hdrs(key=key))
        expect(r2.status == 201 and r2.body == r.body, f"second retry: {r2!r}")
        still_serving(d)

    @tap.case("3 rounds of 12 concurrent POSTs with one key (own TLS connections): one "
              "decision, every answer 201 with its id")
    def _():
        n = 12
        for rnd in range(3):
            s = new_ssin()
            key = f"it-conc-{s}"
            body = json.dumps(decision_body(s)).encode()
            res = concurrent_raw(d, ["ocmw"] * n, raw_http("POST", "/v1/decisions", body,
                                                          [f"Idempotency-Key: {key}"]))
            expect(rows(env, s) == 1, f"round {rnd}: {rows(env, s)} decisions for the SSIN")
            ids = {json.loads(b).get("id") if st_ == 201 else None for st_, b in res}
            expect([st_ for st_, _ in res] == [201] * n and len(ids) == 1,
                   f"round {rnd}: statuses {[st_ for st_, _ in res]}\n"
                   f"{[b[:200] for st_, b in res if st_ != 201][:3]}")


# ---- coverage answers are not retroactive ------------------------------------------------
def coverage_tests(env, tap, d):

    def setup(covers=("general_practice", "pharmacy")):
        s = new_ssin()
        v1 = create(d, "ocmw", decision_body(s, start=-10, end=170, covers=covers))
        covered(coverage(d, s, day(0)), 1, v1["id"])
        return s, v1

    @tap.case("coverage after removing the general_practice cover: today care_type_absent, "
              "yesterday covered by version 1, pharmacy today by version 2")
    def _():
        s, v1 = setup()
        b = editable(v1)
        b["covers"] = [c for c in b["covers"] if c["care_type"] != "general_practice"]
        ok_version(put(d, "ocmw", v1["id"], b, if_match=1), 200, v1["id"], 2, "active")
        not_covered(coverage(d, s, day(0)), "care_type_absent")
        covered(coverage(d, s, day(-1)), 1, v1["id"])
        covered(coverage(d, s, day(-9)), 1, v1["id"])
        covered(coverage(d, s, day(0), care_type="pharmacy", who="provider2"), 2, v1["id"])

    @tap.case("coverage after shortening the end to today: yesterday and today still covered")
    def _():
        s, v1 = setup()
        b = editable(v1)
        b["period"]["end"] = day(0)
        for c in b["covers"]:
            c["period"]["end"] = day(0)
        ok_version(put(d, "ocmw", v1["id"], b, if_match=1), 200, v1["id"], 2, "active")
        covered(coverage(d, s, day(-1)), 1, v1["id"])
        covered(coverage(d, s, day(0)), 2, v1["id"])

    @tap.case("coverage while suspended: today suspended, yesterday covered; resumed: "
              "today covered again")
    def _():
        s, v1 = setup()
        ok_version(act(d, "ocmw", v1["id"], "suspend"), 200, v1["id"], 2, "suspended")
        not_covered(coverage(d, s, day(0)), "suspended")
        covered(coverage(d, s, day(-1)), 1, v1["id"])
        ok_version(act(d, "ocmw", v1["id"], "resume"), 200, v1["id"], 3, "active")
        covered(coverage(d, s, day(0)), 3, v1["id"])

    @tap.case("coverage after a stop at today: today and yesterday still covered")
    def _():
        s, v1 = setup()
        ok_version(act(d, "ocmw", v1["id"], "stop", {"end": day(0)}), 200, v1["id"], 2,
                   "stopped")
        covered(coverage(d, s, day(0)), None, v1["id"])
        covered(coverage(d, s, day(-1)), 1, v1["id"])

    @tap.case("death date recorded as yesterday: today and yesterday deceased, 3 days ago "
              "covered")
    def _():
        s, v1 = setup()
        b = editable(v1)
        b["beneficiary"]["death_date"] = day(-1)
        ok_version(put(d, "ocmw", v1["id"], b, if_match=1), 200, v1["id"], 2, "active")
        not_covered(coverage(d, s, day(0)), "deceased")
        not_covered(coverage(d, s, day(-1)), "deceased")
        covered(coverage(d, s, day(-3)), None, v1["id"])


# ---- the medaid client -------------------------------------------------------------------
def client_tests(env, tap, d):
    cs = {}

    def out(p):
        return f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"

    def key_of(p):
        m = re.search(r"^medaid: idempotency key: (\S+)$", p.stderr, re.M)
        expect(m, f"no 'medaid: idempotency key:' line on stderr:\n{out(p)}")
        return m.group(1)

    @tap.case("medaid decision create without --idempotency-key: prints the key on stderr; "
              "retried with it: same decision, one in the database")
    def _():
        cs["ssin"] = new_ssin()
        path = env.tmp / "lc-create.json"
        path.write_text(json.dumps(decision_body(cs["ssin"], covers=("general_practice",
                                                                      "pharmacy"))))
        p = d.client("ocmw", "decision", "create", str(path))
        expect(p.returncode == 0, out(p))
        j = json.loads(p.stdout)
        k = key_of(p)
        p2 = d.client("ocmw", "decision", "create", str(path), "--idempotency-key", k)
        expect(p2.returncode == 0, out(p2))
        expect(json.loads(p2.stdout) == j, f"a different answer:\n{p.stdout}\n{p2.stdout}")
        expect(rows(env, cs["ssin"]) == 1, "more than one decision")
        cs["v1"] = j

    @tap.case("medaid decision update --if-match 1: exit 0, version 2; retried with the "
              "printed key: same version 2; --if-match 1 with a new key: exit 2 (412)")
    def _():
        b = editable(cs["v1"])
        b["reference"] = "IT/client-update"
        path = env.tmp / "lc-update.json"
        path.write_text(json.dumps(b))
        did = cs["v1"]["id"]
        p = d.client("ocmw", "decision", "update", did, str(path), "--if-match", "1")
        expect(p.returncode == 0, out(p))
        j = json.loads(p.stdout)
        expect(j.get("version") == 2 and j.get("reference") == "IT/client-update", repr(j))
        k = key_of(p)
        p2 = d.client("ocmw", "decision", "update", did, str(path), "--if-match", "1",
                      "--idempotency-key", k)
        expect(p2.returncode == 0 and json.loads(p2.stdout) == j, out(p2))
        p3 = d.client("ocmw", "decision", "update", did, str(path), "--if-match", "1")
        expect(p3.returncode == 2, out(p3))
        p4 = d.client("ocmw", "decision", "update", did, str(path))
        expect(p4.returncode == 1, f"without --if-match: {out(p4)}")
        expect(current(d, did)["version"] == 2, "a version was recorded")

    @tap.case("medaid decision suspend / resume: exit 0; suspend twice: exit 2")
    def _():
        did = cs["v1"]["id"]
        p = d.client("ocmw", "decision", "suspend", did)
        expect(p.returncode == 0 and json.loads(p.stdout).get("status") == "suspended", out(p))
        p = d.client("ocmw", "decision", "suspend", did)
        expect(p.returncode == 2, out(p))
        p = d.client("ocmw", "decision", "resume", did, "--if-match", "3")
        expect(p.returncode == 0, out(p))
        j = json.loads(p.stdout)
        expect(j.get("status") == "active" and j.get("version") == 4, repr(j))

    @tap.case("medaid decision stop --end: exit 0, stopped; ocmw2: exit 2")
    def _():
        did = cs["v1"]["id"]
        p = d.client("ocmw2", "decision", "stop", did, "--end", day(3))
        expect(p.returncode == 2, out(p))
        p = d.client("ocmw", "decision", "stop", did, "--end", day(3))
        expect(p.returncode == 0, out(p))
        j = json.loads(p.stdout)
        expect(j.get("status") == "stopped" and j.get("version") == 5
               and j["period"]["end"] == day(3), repr(j))

    @tap.case("medaid decision history (ocmw, auditor): exit 0, the five versions")
    def _():
        did = cs["v1"]["id"]
        for who in ("ocmw", "auditor"):
            p = d.client(who, "decision", "history", did)
            expect(p.returncode == 0, out(p))
            j = json.loads(p.stdout)
            expect([v.get("change") for v in j.get("versions", [])]
                   == ["create", "update", "suspend", "resume", "stop"], repr(j))
        p = d.client("ocmw2", "decision", "history", did)
        expect(p.returncode == 2, out(p))

    @tap.case("medaid decision show --version 1: the first version")
    def _():
        p = d.client("auditor", "decision", "show", cs["v1"]["id"], "--version", "1")
        expect(p.returncode == 0 and json.loads(p.stdout) == cs["v1"], out(p))

    @tap.case("medaid beneficiary decisions: ocmw2 a summary, auditor in full; provider exit 2")
    def _():
        p = d.client("ocmw2", "beneficiary", "decisions", cs["ssin"])
        expect(p.returncode == 0, out(p))
        j = json.loads(p.stdout)
        expect(j.get("ssin") == cs["ssin"] and len(j.get("decisions", [])) == 1, repr(j))
        expect(j["decisions"][0] == {"id": cs["v1"]["id"], "ocmw": OCMW_ORG, "kind": "coverage",
                                     "period": {"start": day(-10), "end": day(3)},
                                     "status": "stopped"}, repr(j))
        p = d.client("auditor", "beneficiary", "decisions", cs["ssin"])
        expect(p.returncode == 0, out(p))
        j = json.loads(p.stdout)
        expect(j["decisions"] == [current(d, cs["v1"]["id"])], repr(j))
        p = d.client("provider", "beneficiary", "decisions", cs["ssin"])
        expect(p.returncode == 2, out(p))
