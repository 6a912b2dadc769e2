"""Integration tests of hostile input and floods: invalid UTF-8 and integers beyond
2^53 - 1 in JSON bodies (refused as a whole with 422, nothing recorded), and the
per-principal rate limit (429 rate_limited with Retry-After).

Run as a group of run.py ("input"), or:
    python3 tests/integration/run.py --build build --only input
"""

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Daemon, day, expect, new_ssin  # noqa: E402
from tests_api import decision_body, problem  # noqa: E402

BIG = "9007199254740993"  # 2^53 + 1: a double reads 2^53
MAX = "9007199254740991"  # 2^53 - 1: the largest wire integer


def counts(env):
    """Rows that a request could have recorded."""
    return env.psql("SELECT (SELECT count(*) FROM agreement) || ',' || "
                    "(SELECT count(*) FROM decision) || ',' || "
                    "(SELECT count(*) FROM decision_version) || ',' || "
                    "(SELECT count(*) FROM tariff)")


def raw_decision(ssin, cap):
    """A decision's JSON text with a patient share cap written as given."""
    text = json.dumps(decision_body(ssin))
    expect('"patient_share_cap_cents": 5000' in text, "fixture changed")
    return text.replace('"patient_share_cap_cents": 5000', f'"patient_share_cap_cents": {cap}')


def question(ssin_bytes):
    return (b'{"ssin":"' + ssin_bytes + b'","service_date":"' + day(-1).encode() +
            b'","care_type":"general_practice"}')


def refused_whole(env, d, who, method, path, body, code, field=None, content_type=None):
    before = counts(env)
    kw = {"content_type": content_type} if content_type else {}
    r = d.request(who, method, path, body, **kw)
    problem(r, 422, "validation_failed", field=field, field_code=code)
    expect(counts(env) == before, f"rows changed: {before} -> {counts(env)}")
    return r


def run(env, tap):
    # Low limits only for this daemon's providers; the OCMW and admin (the health
    # probe) keep the defaults.
    d = Daemon(env, "input", rate_limit_provider_per_s=2, rate_limit_provider_burst=5)

    @tap.case("medaidd (provider rate 2/s, burst 5) starts and answers /v1/health")
    def _():
        d.start()

    if d.proc is None or d.proc.poll() is not None:
        return

    ssin = new_ssin()

    @tap.case("coverage: an ssin with byte FF: 422 invalid_utf8 at ssin, no agreement")
    def _():
        time.sleep(3)  # a full provider bucket
        refused_whole(env, d, "provider", "POST", "/v1/coverage",
                      question(ssin[:10].encode() + b"\xff"), "invalid_utf8", "ssin")

    @tap.case("coverage: overlong, surrogate and truncated ssin bytes: 422, never answered")
    def _():
        time.sleep(2)
        for bad in (b"\xc0\xb1" + ssin[1:].encode(), ssin.encode() + b"\xed\xa0\x80",
                    ssin.encode() + b"\xe2\x82"):
            refused_whole(env, d, "provider", "POST", "/v1/coverage", question(bad),
                          "invalid_utf8", "ssin")

    @tap.case("coverage via curl --data-binary of raw bytes: 422 invalid_utf8")
    def _():
        time.sleep(1)
        import subprocess
        before = counts(env)
        args = d.curl_base("provider", 10) + [
            "-o", "-", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
            "--data-binary", b'{"ssin":"8507300332\xfe","service_date":"'.decode("latin-1")
            + day(-1) + '","care_type":"pharmacy"}', d.url + "/v1/coverage"]
        p = subprocess.run([a.encode("latin-1") if isinstance(a, str) else a for a in args],
                           capture_output=True, timeout=30)
        out = p.stdout.decode(errors="replace")
        expect(out.rstrip().endswith("422") and '"invalid_utf8"' in out, f"curl: {out!r}")
        expect(counts(env) == before, "rows changed")

    @tap.case("a decision with a cap of 2^53 + 1: 422 out_of_range at the cap, nothing stored")
    def _():
        refused_whole(env, d, "ocmw", "POST", "/v1/decisions", raw_decision(new_ssin(), BIG),
                      "out_of_range", "covers[0].patient_share_cap_cents")

    @tap.case("a decision with a cap of 2^53: 422 out_of_range (|n| <= 2^53 - 1)")
    def _():
        refused_whole(env, d, "ocmw", "POST", "/v1/decisions",
                      raw_decision(new_ssin(), "9007199254740992"), "out_of_range",
                      "covers[0].patient_share_cap_cents")

    @tap.case("a decision with a cap of 2^53 - 1: 201, stored exactly")
    def _():
        r = d.request("ocmw", "POST", "/v1/decisions", raw_decision(new_ssin(), MAX))
        expect(r.status == 201, f"expected 201: {r!r}")
        expect(f'"patient_share_cap_cents":{MAX}' in r.body.decode(), f"not exact: {r.body!r}")
        did = (r.json or {}).get("id")
        g = d.request("ocmw", "GET", f"/v1/decisions/{did}")
        expect(f'"patient_share_cap_cents":{MAX}' in g.body.decode(), f"read back: {g.body!r}")

    @tap.case("a decision with invalid UTF-8 in its reference: 422 invalid_utf8, nothing stored")
    def _():
        text = json.dumps(decision_body(new_ssin(), reference="REF-X")).encode()
        refused_whole(env, d, "ocmw", "POST", "/v1/decisions",
                      text.replace(b"REF-X", b"REF-\xff"), "invalid_utf8", "reference")

    @tap.case("a decision with invalid UTF-8 in a key: 422 invalid_utf8, nothing stored")
    def _():
        text = json.dumps(decision_body(new_ssin())).encode()
        refused_whole(env, d, "ocmw", "POST", "/v1/decisions",
                      text.replace(b'"reference"', b'"x\xc3": 1, "reference"', 1),
                      "invalid_utf8", "x?")

    @tap.case("a JSON tariff import with a fee of 2^53 + 1: 422 out_of_range, nothing imported")
    def _():
        body = ('[{"code":"101076","period":{"start":"2026-01-01","end":"2026-12-31"},'
                f'"fee_cents":{BIG},"patient_share_cents":0,"care_types":["pharmacy"]}}]')
        refused_whole(env, d, "admin", "PUT", "/v1/tariffs", body, "out_of_range",
                      "[0].fee_cents")

    @tap.case("a CSV tariff import with a line that is not UTF-8: 422 invalid_utf8 at line 2")
    def _():
        body = (b"code,start,end,fee_cents,patient_share_cents,care_types\n"
                b"101076,2026-01-01,2026-12-31,3000,600,pharmacy\xff\n")
        refused_whole(env, d, "admin", "PUT", "/v1/tariffs", body, "invalid_utf8", "line 2",
                      content_type="text/csv")

    @tap.case("a batch with invalid UTF-8 in one question: refused as a whole, none recorded")
    def _():
        time.sleep(3)
        good = question(ssin.encode())
        body = b'{"questions":[' + good + b"," + question(b"\xc0\xaf") + b"]}"
        before = counts(env)
        r = d.request("provider", "POST", "/v1/coverage/batch", body)
        problem(r, 422, "validation_failed", field_code="invalid_utf8")
        expect("answers" not in (r.json or {}), f"a batch answer: {r!r}")
        expect(counts(env) == before, f"rows changed: {before} -> {counts(env)}")

    @tap.case("a stop whose body has invalid UTF-8 or a number beyond 2^53: 422, no new version")
    def _():
        r = d.request("ocmw", "POST", "/v1/decisions", decision_body(new_ssin()))
        expect(r.status == 201, f"decision: {r!r}")
        did = r.json["id"]
        refused_whole(env, d, "ocmw", "POST", f"/v1/decisions/{did}/stop",
                      b'{"end":"\xff2026-12-31"}', "invalid_utf8")
        refused_whole(env, d, "ocmw", "POST", f"/v1/decisions/{did}/suspend",
                      b'{"x":9007199254740993}', "out_of_range")
        got = env.psql(f"SELECT current_version FROM decision WHERE id = '{did}'")
        expect(got == "1", f"a version was written: current_version {got!r}")

    # ---- rate limits ---------------------------------------------------------------

    @tap.case("a burst above the provider's burst of 5: some 429 rate_limited with Retry-After")
    def _():
        time.sleep(3)  # refill to the burst
        with ThreadPoolExecutor(max_workers=6) as ex:
            rs = list(ex.map(lambda _: d.request("provider", "GET", "/v1/health"), range(12)))
        ok = [r for r in rs if r.status == 200]
        limited = [r for r in rs if r.status == 429]
        expect(len(ok) + len(limited) == len(rs), f"other answers: {rs!r}")
        # at most the burst plus what trickled in at 2/s during the burst
        expect(len(limited) >= 3, f"expected refusals: {len(ok)} ok, {len(limited)} 429")
        expect(len(ok) >= 5, f"the burst was not served: {len(ok)} ok")
        r = limited[0]
        problem(r, 429, "rate_limited")
        ra = r.header("retry-after")
        expect(ra and ra.isdigit() and int(ra) >= 1, f"Retry-After {ra!r}: {r!r}")

    @tap.case("meanwhile another provider and the OCMW are served")
    def _():
        r = d.request("provider2", "GET", "/v1/health")
        expect(r.status == 200, f"provider2: {r!r}")
        r = d.request("ocmw", "GET", "/v1/health")
        expect(r.status == 200, f"ocmw: {r!r}")

    @tap.case("after waiting Retry-After the provider is served again")
    def _():
        r = d.request("provider", "GET", "/v1/health")
        if r.status == 429:
            time.sleep(int(r.header("retry-after") or "1") + 0.2)
            r = d.request("provider", "GET", "/v1/health")
        expect(r.status == 200, f"expected 200 after Retry-After: {r!r}")

    @tap.case("refusals are logged (rate limit: principal ...), at most once a second")
    def _():
        log = (env.tmp / "input.log").read_text(errors="replace")
        lines = [ln for ln in log.splitlines() if "rate limit: principal" in ln]
        expect(lines, "no rate limit log line")
        expect(len(lines) <= 10, f"{len(lines)} rate limit lines: not throttled")
