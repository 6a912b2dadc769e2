"""Integration tests of invoices (issue 10): a provider's invoice lines checked against
its agreements in DOMAIN.md's order, never accepted twice (also when invoices race),
no void of a billed agreement, the fund's payments (never over the accepted state
share, also when they race), the monthly statements (every total the exact sum of
its lines, summed here independently), the list and its formats, bad input, and the
audit records.

Agreed amounts are read from the coverage answers (tests_agreements checks them
against the formula); every expected outcome and sum is computed here."""

import csv
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor

from harness import (
    Daemon, PRINCIPALS, ROOT, clean_exit, expect, lib, new_ssin, started, today,
)
from tests_agreements import answer, ask, cover, decision, import_csv
from tests_api import problem
from tests_lifecycle import create

SAMPLE = ROOT / "scripts" / "sample-tariffs.csv"
PROVIDER_ORG = PRINCIPALS["provider"][1]
PROVIDER2_ORG = PRINCIPALS["provider2"][1]
OCMW = PRINCIPALS["ocmw"][1]
OCMW2 = PRINCIPALS["ocmw2"][1]


def kbo(first8):
    return first8 + f"{97 - int(first8) % 97:02d}"


FUND_ORG = kbo("02012345")
CODES = ("101076", "101032")


def add_fund(env):
    """A principal of role fund (its own certificate)."""
    if not env.cert("fund")[0].exists():
        lib(f'_ca_leaf "{env.certs}" fund "/O=Demo Fund/serialNumber={FUND_ORG}/OU=fund/CN=fund"'
            ' "${_client_ext[@]}"')
    env.principal_add("fund", "fund", FUND_ORG)


class World:
    """What the test has created: every invoice answer and payment, to sum independently."""

    def __init__(self):
        self.invoices = []   # answers
        self.payments = {}   # invoice -> [amount]
        self.ocmw_of = {}    # agreement -> ocmw


W = World()


def agreement(d, who_ocmw="ocmw", who="provider", items=(("101076", 3), ("101032", 1)),
              care_type="general_practice"):
    """A covered agreement for a fresh person; returns (number, {code: item})."""
    s = new_ssin()
    create(d, who_ocmw, decision(s, [cover(care_type, ins="full", share="full")],
                                 other=(100, 0)))
    j = answer(ask(d, s, today().isoformat(), care_type,
                   [{"code": c, "quantity": q} for c, q in items], who=who))
    if j.get("covered"):
        W.ocmw_of[j["agreement"]] = j["decision"]["ocmw"]
    return j["agreement"], {i["code"]: i for i in j.get("items", []) if "refused" not in i}, s


def line(a, code, quantity, state, ocmw, patient=0):
    return {"agreement": a, "code": code, "quantity": quantity, "state_cents": state,
            "ocmw_cents": ocmw, "patient_cents": patient}


def submit(d, lines, key=None, who="provider", reference=None):
    body = {"lines": lines}
    if reference:
        body["reference"] = reference
    h = [f"Idempotency-Key: {key}"] if key else []
    r = d.request(who, "POST", "/v1/invoices", body, headers=h, max_time=60)
    if r.status == 201 and isinstance(r.json, dict):
        if all(x["invoice"] != r.json["invoice"] for x in W.invoices):
            W.invoices.append(r.json)
    return r


def outcomes(r):
    expect(r.status == 201 and isinstance(r.json, dict), f"invoice: expected 201, got {r!r}")
    return [ln["rejected"]["code"] if not ln["accepted"] else "accepted" for ln in r.json["lines"]]


def full(a, items, code):
    it = items[code]
    return line(a, code, it["quantity"], it["state_cents"], it["ocmw_cents"])


def run(env, tap):
    d = Daemon(env, "invoices", workers=4, db_pool_size=8)
    if not started(tap, d):
        return

    @tap.case("set-up: a fund principal, the sample tariffs")
    def _():
        add_fund(env)
        r = import_csv(d, SAMPLE.read_text())
        expect(r.status == 200, f"import: {r!r}")

    line_tests(env, tap, d)
    race_tests(env, tap, d)
    read_tests(env, tap, d)
    payment_tests(env, tap, d)
    statement_tests(env, tap, d)
    client_tests(env, tap, d)
    input_tests(env, tap, d)
    audit_tests(env, tap, d)
    clean_exit(tap, d)


def line_tests(env, tap, d):
    @tap.case("exact claims accepted; one cent over (state, OCMW) rejected amount_exceeded")
    def _():
        a, items, _ = agreement(d)
        it = items["101076"]
        expect(it["quantity"] == 3 and it["state_cents"] > 0 and it["ocmw_cents"] > 0,
               f"agreement items: {items!r}")
        r = submit(d, [line(a, "101076", 3, it["state_cents"] + 1, it["ocmw_cents"]),
                       line(a, "101076", 3, it["state_cents"], it["ocmw_cents"] + 1),
                       full(a, items, "101076"), full(a, items, "101032")])
        expect(outcomes(r) == ["amount_exceeded", "amount_exceeded", "accepted", "accepted"],
               f"{outcomes(r)}")
        expect(r.json["status"] == "partial", r.json)
        t = r.json["totals"]
        expect(t["state_cents"] == it["state_cents"] + items["101032"]["state_cents"]
               and t["accepted_lines"] == 2 and t["rejected_lines"] == 2, t)
        r2 = submit(d, [line(a, "101076", 1, 0, 0)])
        expect(outcomes(r2) == ["quantity_exceeded"], f"billed twice: {outcomes(r2)}")
        expect(r2.json["status"] == "rejected", r2.json)

    @tap.case("pro rata: agreed x billed / agreed rounded down, one cent each side")
    def _():
        a, items, _ = agreement(d, items=(("101076", 3),))
        it = items["101076"]
        st1, oc1 = it["state_cents"] // 3, it["ocmw_cents"] // 3
        st2, oc2 = it["state_cents"] * 2 // 3, it["ocmw_cents"] * 2 // 3
        r = submit(d, [line(a, "101076", 1, st1 + 1, oc1), line(a, "101076", 1, st1, oc1 + 1),
                       line(a, "101076", 1, st1, oc1), line(a, "101076", 2, st2, oc2 + 1),
                       line(a, "101076", 2, st2, oc2), line(a, "101076", 1, 0, 0)])
        expect(outcomes(r) == ["amount_exceeded", "amount_exceeded", "accepted",
                               "amount_exceeded", "accepted", "quantity_exceeded"],
               f"{outcomes(r)} (agreed {it})")

    @tap.case("each rejection code, in DOMAIN.md's order; where two apply the first wins")
    def _():
        a, items, _ = agreement(d)
        # provider2 is a hospital: it asks what its kind may (outpatient hospital care)
        other, oitems, _ = agreement(d, who="provider2", care_type="ambulatory_hospital",
                                     items=(("102771", 3), ("597011", 1)))
        voided, vitems, _ = agreement(d)
        v = d.request("provider", "POST", f"/v1/agreements/{voided}/void", {})
        expect(v.status == 200, f"void: {v!r}")
        s = new_ssin()
        create(d, "ocmw", decision(s, [cover("general_practice")]))
        refused = answer(ask(d, s, today().isoformat(), "paramedical",
                             [{"code": "101076", "quantity": 1}]))
        expect(refused["covered"] is False, refused)
        # an agreement for a service date 25 months back (written as the owner: no
        # question may ask that far back), for invoice_too_late
        old = "A2020-9" + f"{int(a[-7:]):07d}"
        env.psql(
            "INSERT INTO agreement (number, provider_id, provider_org, ssin, service_date,"
            " care_type, covered, question, answer) SELECT '" + old + "', id, organisation,"
            " '" + s + "', (now() AT TIME ZONE 'Europe/Brussels')::date - interval '25 months'"
            " - interval '1 day', 'general_practice', true, '{}',"
            " '{\"covered\":true,\"items\":[{\"code\":\"101076\",\"quantity\":1,"
            "\"state_cents\":100,\"ocmw_cents\":0}]}' FROM principal"
            " WHERE name = 'integration provider'")
        it = items["101076"]
        r = submit(d, [
            line("A2020-00000000", "101076", 1, 0, 0),                  # no such agreement
            full(other, oitems, "102771"),                             # another provider's
            full(voided, vitems, "101076"),                            # void
            line(voided, "109999", 1, 0, 0),                           # void + code: void
            line(refused["agreement"], "101076", 1, 0, 0),             # not covered
            line(a, "109999", 1, 0, 0),                                # code not agreed
            line(a, "101076", 4, 0, 0),                                # 4 of 3
            line(a, "101076", 4, it["state_cents"] * 9, 0),            # quantity + amount
            line(a, "101076", 1, it["state_cents"], 0),                # amount (1 of 3)
            line(old, "101076", 1, 100, 0),                            # too late
            line(old, "101076", 1, 101, 0),                            # amount + too late
        ])
        expect(outcomes(r) == ["unknown_agreement", "unknown_agreement", "agreement_void",
                               "agreement_void", "agreement_not_covered", "code_not_agreed",
                               "quantity_exceeded", "quantity_exceeded", "amount_exceeded",
                               "invoice_too_late", "amount_exceeded"], f"{outcomes(r)}")
        msg = r.json["lines"][0]["rejected"]["message"]
        expect(isinstance(msg, str) and msg, r.json)
        msgs = r.json["lines"][0]["rejected"].get("messages") or {}
        expect(set(msgs) == {"nl", "fr", "de"} and all(msgs.values()),
               f"a rejection carries messages in nl, fr and de: {r.json['lines'][0]}")
        expect(r.json["status"] == "rejected", r.json)

    @tap.case("Idempotency-Key: a retry gets the first answer byte for byte; another body 422")
    def _():
        a, items, _ = agreement(d)
        key = f"inv-{a}"
        r1 = submit(d, [full(a, items, "101076")], key=key)
        r2 = submit(d, [full(a, items, "101076")], key=key)
        expect(outcomes(r1) == ["accepted"], f"{outcomes(r1)}")
        expect(r2.status == 201 and r2.body == r1.body, f"retry:\n{r1.body!r}\n{r2.body!r}")
        r3 = submit(d, [full(a, items, "101032")], key=key)
        problem(r3, 422, "idempotency_key_reused")

    @tap.case("an agreement with an accepted line cannot be voided (409); without one it can")
    def _():
        a, items, _ = agreement(d)
        r = submit(d, [line(a, "101032", 1, 0, 0)])
        expect(outcomes(r) == ["accepted"], f"{outcomes(r)}")
        problem(d.request("provider", "POST", f"/v1/agreements/{a}/void", {}), 409,
                "agreement_billed")
        g = d.request("provider", "GET", f"/v1/agreements/{a}")
        expect(g.status == 200 and not g.header("agreement-voided-at"), f"{g!r}")
        b, bitems, _ = agreement(d)
        submit(d, [line(b, "101032", 2, 0, 0)])  # rejected: quantity
        v = d.request("provider", "POST", f"/v1/agreements/{b}/void", {})
        expect(v.status == 200, f"a rejected line does not keep it: {v!r}")


def race_tests(env, tap, d):
    @tap.case("24 invoices racing for one agreement item of quantity 5: exactly 5 accepted")
    def _():
        a, items, _ = agreement(d, items=(("101076", 5),))
        it = items["101076"]
        one = line(a, "101076", 1, it["state_cents"] // 5, it["ocmw_cents"] // 5)
        with ThreadPoolExecutor(max_workers=24) as ex:
            rs = list(ex.map(lambda i: submit(d, [one], reference=f"race-{i}"), range(24)))
        outs = [outcomes(r)[0] for r in rs]
        expect(outs.count("accepted") == 5 and outs.count("quantity_exceeded") == 19,
               f"{outs}")
        n = env.psql(f"SELECT sum(quantity) FROM invoice_line WHERE agreement = '{a}'"
                     " AND accepted")
        expect(n == "5", f"accepted in the database: {n}")

    @tap.case("racing invoices and a void of the same agreement: void refused or no line kept")
    def _():
        for _ in range(3):
            a, items, _ = agreement(d)
            with ThreadPoolExecutor(max_workers=2) as ex:
                fi = ex.submit(submit, d, [line(a, "101032", 1, 0, 0)])
                fv = ex.submit(d.request, "provider", "POST", f"/v1/agreements/{a}/void", {})
                ri, rv = fi.result(), fv.result()
            o = outcomes(ri)[0]
            expect((o == "accepted" and rv.status == 409) or
                   (o == "agreement_void" and rv.status == 200), f"{o} / {rv!r}")


def read_tests(env, tap, d):
    @tap.case("GET /v1/invoices/{id}: its provider, the fund, auditors; others 404 / 403")
    def _():
        inv = W.invoices[0]["invoice"]
        for who in ("provider", "fund", "auditor"):
            g = d.request(who, "GET", f"/v1/invoices/{inv}")
            expect(g.status == 200 and g.json["invoice"] == inv and g.json["paid_cents"] == 0
                   and g.json["payments"] == [], f"{who}: {g!r}")
        problem(d.request("provider2", "GET", f"/v1/invoices/{inv}"), 404, "not_found")
        problem(d.request("ocmw", "GET", f"/v1/invoices/{inv}"), 403, "forbidden")
        problem(d.request("fund", "GET", "/v1/invoices/I2020-00000000"), 404, "not_found")
        problem(d.request("provider", "GET", "/v1/invoices"), 403, "forbidden")

    @tap.case("GET /v1/invoices: filters, cursor pages, NDJSON and CSV say the same")
    def _():
        m = today().strftime("%Y-%m")
        mine = sorted(x["invoice"] for x in W.invoices if x["provider"] == PROVIDER_ORG)
        got, cursor = [], None
        while True:
            q = f"/v1/invoices?provider={PROVIDER_ORG}&month={m}&limit=7"
            r = d.request("fund", "GET", q + (f"&cursor={cursor}" if cursor else ""))
            expect(r.status == 200, f"{r!r}")
            got += [i["invoice"] for i in r.json["items"]]
            cursor = r.json["next_cursor"]
            if not cursor:
                break
        expect(got == mine, f"pages {got} != {mine}")
        nd = d.request("auditor", "GET", f"/v1/invoices?provider={PROVIDER_ORG}&month={m}",
                       headers=["Accept: application/x-ndjson"])
        rows = [json.loads(x) for x in nd.body.decode().splitlines()]
        expect([x["invoice"] for x in rows] == mine, f"ndjson {nd!r}")
        csv = d.request("fund", "GET", f"/v1/invoices?provider={PROVIDER_ORG}&month={m}",
                        headers=["Accept: text/csv"])
        lines = csv.body.decode().splitlines()
        expect(lines[0].startswith("invoice,provider,invoice_date") and
               [x.split(",")[0] for x in lines[1:]] == mine, f"csv {csv!r}")
        rej = d.request("fund", "GET", f"/v1/invoices?status=rejected&month={m}&limit=1000")
        expect(all(i["status"] == "rejected" and i["accepted_lines"] == 0
                   for i in rej.json["items"]) and rej.json["items"], f"{rej!r}")
        want = {x["invoice"] for x in W.invoices if x["status"] == "rejected"}
        expect({i["invoice"] for i in rej.json["items"]} == want, "status filter")
        o2 = d.request("fund", "GET", f"/v1/invoices?ocmw={OCMW2}&limit=1000")
        expect(o2.status == 200 and o2.json["items"] == [], f"no OCMW2 lines yet: {o2!r}")
        problem(d.request("fund", "GET", "/v1/invoices?month=2026-13"), 400, "invalid_parameter")
        problem(d.request("fund", "GET", "/v1/invoices?status=paid"), 400, "invalid_parameter")
        problem(d.request("fund", "GET", "/v1/invoices?foo=1"), 400, "unknown_parameter")


def payment_tests(env, tap, d):
    @tap.case("payments: up to the accepted state share exactly; one cent more 409")
    def _():
        a, items, _ = agreement(d)
        r = submit(d, [full(a, items, "101076"), full(a, items, "101032")])
        inv, due = r.json["invoice"], r.json["totals"]["state_cents"]
        expect(due > 2, r.json)

        def pay(amount, ref, who="fund"):
            return d.request(who, "POST", f"/v1/invoices/{inv}/payments",
                             {"amount_cents": amount, "date": today().isoformat(),
                              "reference": ref})
        p1 = pay(due - 1, "SEPA-1")
        expect(p1.status == 201 and p1.json["amount_cents"] == due - 1, f"{p1!r}")
        problem(pay(2, "SEPA-2"), 409, "payment_exceeds_due")
        problem(pay(1, "SEPA-1"), 409, "payment_duplicate")
        p3 = pay(1, "SEPA-3")
        expect(p3.status == 201, f"{p3!r}")
        problem(pay(1, "SEPA-4"), 409, "payment_exceeds_due")
        problem(pay(1, "SEPA-5", who="provider"), 403, "forbidden")
        W.payments[inv] = [due - 1, 1]
        g = d.request("fund", "GET", f"/v1/invoices/{inv}")
        expect(g.json["paid_cents"] == due and len(g.json["payments"]) == 2, f"{g!r}")

    @tap.case("16 payments racing for one invoice never exceed its state share")
    def _():
        a, items, _ = agreement(d)
        r = submit(d, [full(a, items, "101076")])
        inv, due = r.json["invoice"], r.json["totals"]["state_cents"]
        part = due // 3 + 1  # at most 2 fit
        with ThreadPoolExecutor(max_workers=16) as ex:
            rs = list(ex.map(lambda i: d.request(
                "fund", "POST", f"/v1/invoices/{inv}/payments",
                {"amount_cents": part, "date": today().isoformat(), "reference": f"R{i}"}),
                range(16)))
        ok = [x for x in rs if x.status == 201]
        expect(len(ok) == 2 and all(x.status in (201, 409) for x in rs),
               f"{[x.status for x in rs]}")
        paid = env.psql(f"SELECT sum(amount_cents) FROM payment WHERE invoice_id = '{inv}'")
        expect(int(paid) == 2 * part <= due, f"paid {paid} due {due}")
        W.payments[inv] = [part, part]

    @tap.case("bad payments: 422 per field (2^53, zero, future date, unknown field)")
    def _():
        inv = W.invoices[0]["invoice"]
        base = {"amount_cents": 1, "date": today().isoformat(), "reference": "X"}
        for body, field, code in (
                ({**base, "amount_cents": 9007199254740992}, "amount_cents", "out_of_range"),
                ({**base, "amount_cents": 0}, "amount_cents", "out_of_range"),
                ({**base, "date": "2999-01-01"}, "date", "date_in_future"),
                ({**base, "extra": 1}, "extra", "unknown_field"),
                ({**base, "reference": ""}, "reference", "invalid_reference")):
            problem(d.request("fund", "POST", f"/v1/invoices/{inv}/payments", body), 422,
                    "validation_failed", field=field, field_code=code)
        problem(d.request("fund", "POST", "/v1/invoices/I2020-00000000/payments", base), 404,
                "not_found")


def compact_json(r):
    """The answer's bytes are compact JSON, as every other answer (no " : ", no ", ")."""
    expect(b" : " not in r.body and b'", "' not in r.body and b"\n" not in r.body and
           r.body == json.dumps(r.json, separators=(",", ":"), ensure_ascii=False).encode(),
           f"not compact: {r.body[:300]!r}")


def statement_tests(env, tap, d):
    @tap.case("statements: a month of mixed agreements, invoices and payments sums exactly")
    def _():
        # more: the second OCMW, the second provider (a hospital: it asks outpatient
        # hospital care, codes 102771 x 3 and 597011 x 1)
        gp = ("general_practice", "101076", "101032")
        hospital = ("ambulatory_hospital", "102771", "597011")
        for who_ocmw, who, (care, c1, c2) in (("ocmw2", "provider", gp),
                                              ("ocmw2", "provider2", hospital),
                                              ("ocmw", "provider2", hospital)):
            a, items, _ = agreement(d, who_ocmw=who_ocmw, who=who, care_type=care,
                                    items=((c1, 3), (c2, 1)))
            submit(d, [full(a, items, c1), line(a, c2, 1, 0, 0), line(a, c2, 1, 0, 0)], who=who)
        m = today().strftime("%Y-%m")
        r = d.request("fund", "GET", f"/v1/statements?month={m}")
        expect(r.status == 200, f"{r!r}")
        compact_json(r)
        s = r.json
        prov, ocmw, lines_by_ocmw = {}, {}, {}
        for inv in W.invoices:
            p = prov.setdefault(inv["provider"], {"state": 0, "paid": 0, "n": 0})
            for ln in inv["lines"]:
                if ln["accepted"]:
                    p["state"] += ln["state_cents"]
                    p["n"] += 1
                    o = W.ocmw_of[ln["agreement"]]
                    ocmw[o] = ocmw.get(o, 0) + ln["ocmw_cents"]
                    lines_by_ocmw.setdefault(o, []).append((inv["invoice"], ln))
            p["paid"] += sum(W.payments.get(inv["invoice"], []))
        got = {x["provider"]: {"state": x["state_cents"], "paid": x["paid_cents"],
                               "n": x["accepted_lines"]} for x in s["providers"]}
        expect(got == prov, f"providers {got} != {prov}")
        gocmw = {x["ocmw"]: x["ocmw_cents"] for x in s["ocmws"]}
        expect(gocmw == ocmw and set(ocmw) == {OCMW, OCMW2}, f"ocmws {gocmw} != {ocmw}")
        expect(s["totals"]["state_cents"] == sum(p["state"] for p in prov.values()) and
               s["totals"]["ocmw_cents"] == sum(ocmw.values()) and
               s["totals"]["paid_cents"] == sum(sum(v) for v in W.payments.values()),
               f"totals {s['totals']}")
        for who, org in (("ocmw", OCMW), ("ocmw2", OCMW2)):
            o = d.request(who, "GET", f"/v1/statements?month={m}")
            expect(o.status == 200 and o.json["ocmw"] == org, f"{o!r}")
            compact_json(o)
            mine = lines_by_ocmw[org]
            expect(len(o.json["lines"]) == len(mine) and
                   {(x["invoice"], x["line"]) for x in o.json["lines"]} ==
                   {(i, ln["line"]) for i, ln in mine}, f"{who}: lines")
            expect(all(set(x) >= {"agreement", "ssin", "code", "ocmw_cents"}
                       for x in o.json["lines"]), o.json["lines"][:2])
            expect(o.json["totals"]["ocmw_cents"] == sum(ln["ocmw_cents"] for _, ln in mine)
                   == sum(x["ocmw_cents"] for x in o.json["lines"]), f"{who}: total")
        empty = d.request("fund", "GET", "/v1/statements?month=2001-01")
        expect(empty.json["providers"] == [] and empty.json["totals"]["state_cents"] == 0, empty)
        compact_json(empty)
        problem(d.request("fund", "GET", "/v1/statements"), 400, "invalid_parameter")
        problem(d.request("provider", "GET", f"/v1/statements?month={m}"), 403, "forbidden")


def client_ok(p, what):
    expect(p.returncode == 0, f"{what}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def client_refused(p, what, code):
    expect(p.returncode == 2 and p.stdout == "" and code in p.stderr,
           f"{what}: expected exit 2 with {code}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")


def csv_rows(text):
    return list(csv.reader(io.StringIO(text)))


def client_tests(env, tap, d):
    """The client's billing commands against the API's answers (curl) in the same run."""
    m = today().strftime("%Y-%m")
    st = {}

    @tap.case("medaid invoice submit FILE|-: the 201 answer as received; a retry with the "
              "generated key (shown on stderr) gets the same answer byte for byte")
    def _():
        a, items, _ = agreement(d)
        body = {"reference": "CLI,\"1\"", "lines": [
            full(a, items, "101076"), line(a, "101032", 1, items["101032"]["state_cents"] + 1, 0),
            line(a, "999999", 1, 0, 0)]}
        p = d.client("provider", "invoice", "submit", "-", stdin=json.dumps(body), timeout=60)
        out = client_ok(p, "invoice submit")
        j = json.loads(out)
        expect(j["status"] == "partial" and [ln["accepted"] for ln in j["lines"]] ==
               [True, False, False] and j["lines"][1]["rejected"]["code"] == "amount_exceeded"
               and j["lines"][2]["rejected"]["code"] == "code_not_agreed", out)
        key = re.search(r"idempotency key: ([0-9a-f]{32})$", p.stderr, re.M)
        expect(key, f"no generated key on stderr: {p.stderr!r}")
        r = d.request("provider", "POST", "/v1/invoices", json.dumps(body),
                      headers=[f"Idempotency-Key: {key.group(1)}"], max_time=60)
        expect(r.status == 201 and out == r.body.decode() + ("" if r.body.endswith(b"\n")
                                                             else "\n"),
               f"retry with the key:\n{r.body!r}\n{out!r}")
        W.invoices.append(j)
        st["inv"] = j
        # a given key, from a file; the same key again gives the same invoice
        f = env.tmp / "invoice.json"
        f.write_text(json.dumps({"lines": [full(a, items, "101032")]}))
        p1 = d.client("provider", "invoice", "submit", str(f), "--idempotency-key", "cli-k1")
        p2 = d.client("provider", "invoice", "submit", str(f), "--idempotency-key", "cli-k1")
        j1 = json.loads(client_ok(p1, "submit FILE"))
        expect(j1["status"] == "accepted" and p2.stdout == p1.stdout and p1.stderr == "",
               f"{p1.stdout}\n{p2.stdout}\n{p1.stderr}")
        W.invoices.append(j1)
        st["inv2"] = j1
        t = d.client("provider", "invoice", "submit", str(f), "--idempotency-key", "cli-k2",
                     "--format", "table")
        expect(t.returncode == 0 and re.search(r"^lines\[0\]\.rejected\.code +quantity_exceeded$",
                                               t.stdout, re.M), t.stdout + t.stderr)
        W.invoices.append(json.loads(d.request("fund", "GET", "/v1/invoices/" + re.search(
            r"^invoice +(I\S+)$", t.stdout, re.M).group(1)).body))
        client_refused(d.client("provider", "invoice", "submit", "-", stdin='{"lines":[]}'),
                       "no lines", "validation_failed")
        client_refused(d.client("fund", "invoice", "submit", str(f)), "a fund", "403")
        p = d.client("provider", "invoice", "submit", "-", stdin="[1]")
        expect(p.returncode == 1 and p.stdout == "", f"not an object: {p.returncode} {p.stderr}")
        p = d.client("provider", "invoice", "submit")
        expect(p.returncode == 1 and p.stdout == "", "no FILE")

    @tap.case("medaid invoice show ID: the answer of GET /v1/invoices/{id} as received "
              "(provider, fund, auditor); another provider exit 2 (404)")
    def _():
        inv = st["inv"]["invoice"]
        for who in ("provider", "fund", "auditor"):
            out = client_ok(d.client(who, "invoice", "show", inv), f"show as {who}")
            g = d.request(who, "GET", f"/v1/invoices/{inv}")
            expect(out.rstrip("\n") == g.body.decode().rstrip("\n"), f"{out}\n{g.body!r}")
        client_refused(d.client("provider2", "invoice", "show", inv), "provider2", "404")
        p = d.client("fund", "invoice", "show", inv, "--format", "table")
        expect(p.returncode == 0 and re.search(rf"^invoice +{inv}$", p.stdout, re.M) and
               re.search(r"^paid_cents +0$", p.stdout, re.M), p.stdout)

    @tap.case("medaid payment add: 201 as received, seen by invoice show; the same reference "
              "exit 2 (payment_duplicate); one cent over the state share exit 2; bad options 1")
    def _():
        inv, due = st["inv"]["invoice"], st["inv"]["totals"]["state_cents"]
        expect(due >= 2, f"state share {due}")
        p = d.client("fund", "payment", "add", inv, "--amount-cents", str(due - 1), "--date",
                     today().isoformat(), "--reference", "CLI-PAY-1")
        pay = json.loads(client_ok(p, "payment add"))
        expect(pay["invoice"] == inv and pay["amount_cents"] == due - 1 and
               pay["reference"] == "CLI-PAY-1" and pay["date"] == today().isoformat(), pay)
        W.payments.setdefault(inv, []).append(due - 1)
        g = d.request("fund", "GET", f"/v1/invoices/{inv}").json
        expect(g["paid_cents"] == due - 1 and g["payments"][0]["payment"] == pay["payment"], g)
        client_refused(d.client("fund", "payment", "add", inv, "--amount-cents", "1", "--date",
                                today().isoformat(), "--reference", "CLI-PAY-1"),
                       "same reference", "payment_duplicate")
        client_refused(d.client("fund", "payment", "add", inv, "--amount-cents", "2", "--date",
                                today().isoformat(), "--reference", "CLI-PAY-2"),
                       "one cent over", "payment_exceeds_due")
        client_refused(d.client("provider", "payment", "add", inv, "--amount-cents", "1",
                                "--date", today().isoformat(), "--reference", "X"),
                       "a provider", "403")
        client_refused(d.client("fund", "payment", "add", "I2020-00000000", "--amount-cents", "1",
                                "--date", today().isoformat(), "--reference", "X"),
                       "no such invoice", "404")
        for args in (("--amount-cents", "1", "--date", today().isoformat()),
                     ("--amount-cents", "0", "--date", today().isoformat(), "--reference", "X"),
                     ("--amount-cents", "9007199254740992", "--date", today().isoformat(),
                      "--reference", "X"),
                     ("--amount-cents", "1", "--date", "2026-02-30", "--reference", "X")):
            p = d.client("fund", "payment", "add", inv, *args)
            expect(p.returncode == 1 and p.stdout == "", f"{args}: {p.returncode} {p.stderr}")
        p = d.client("fund", "payment", "add", inv, "--amount-cents", "1", "--date",
                     st["inv"]["invoice_date"], "--reference", "CLI-PAY-3")
        client_ok(p, "the last cent")
        W.payments[inv].append(1)

    @tap.case("medaid invoice list: json (every page), ndjson, csv, table, --limit and "
              "--cursor say what GET /v1/invoices says")
    def _():
        q = f"provider={PROVIDER_ORG}&month={m}"
        api, cursor = [], None
        while True:
            r = d.request("fund", "GET", f"/v1/invoices?{q}&limit=5"
                          + (f"&cursor={cursor}" if cursor else ""))
            expect(r.status == 200, f"{r!r}")
            api += r.json["items"]
            cursor = r.json["next_cursor"]
            if not cursor:
                break
        ids = [i["invoice"] for i in api]
        expect(st["inv"]["invoice"] in ids and len(ids) > 5, f"{len(ids)} invoices")
        base = ("invoice", "list", "--provider", PROVIDER_ORG, "--month", m)
        out = client_ok(d.client("fund", *base, timeout=60), "list json")
        expect(json.loads(out) == api, "json differs from the pages")
        nd = d.request("fund", "GET", f"/v1/invoices?{q}", headers=["Accept: application/x-ndjson"])
        out = client_ok(d.client("auditor", *base, "--format", "ndjson"), "list ndjson")
        expect(out.splitlines() == nd.body.decode().splitlines(), f"{out}\n{nd.body!r}")
        sc = d.request("fund", "GET", f"/v1/invoices?{q}", headers=["Accept: text/csv"])
        out = client_ok(d.client("fund", *base, "--format", "csv"), "list csv")
        expect(csv_rows(out) == csv_rows(sc.body.decode()) and len(csv_rows(out)) == len(ids) + 1,
               f"{out}\n--- api\n{sc.body.decode()}")
        ref = [r for r in csv_rows(out) if r[0] == st["inv"]["invoice"]][0]
        expect(ref[3] == 'CLI,"1"' and ref[4] == "partial", ref)
        out = client_ok(d.client("fund", *base, "--format", "table"), "list table")
        rows = out.splitlines()
        expect(rows[0].split() == csv_rows(sc.body.decode())[0] and
               [r.split()[0] for r in rows[1:]] == ids, out)
        first = d.request("fund", "GET", f"/v1/invoices?{q}&limit=3")
        out = client_ok(d.client("fund", *base, "--limit", "3"), "--limit 3")
        expect(out.rstrip("\n") == first.body.decode().rstrip("\n"), out)
        cur = first.json["next_cursor"]
        nxt = d.request("fund", "GET", f"/v1/invoices?{q}&limit=100&cursor={cur}")
        out = client_ok(d.client("fund", *base, "--cursor", cur), "--cursor")
        expect(out.rstrip("\n") == nxt.body.decode().rstrip("\n") and
               [i["invoice"] for i in json.loads(out)["items"]] == ids[3:103], out)
        rej = client_ok(d.client("fund", "invoice", "list", "--status", "rejected", "--month", m,
                                 "--format", "ndjson"), "status")
        want = sorted(x["invoice"] for x in W.invoices if x["status"] == "rejected")
        expect(sorted(json.loads(x)["invoice"] for x in rej.splitlines()) == want, rej)
        client_refused(d.client("provider", "invoice", "list"), "a provider", "403")
        for args in (("--month", "2026-13"), ("--status", "paid"), ("--ocmw", "0212345678"),
                     ("--limit", "0"), ("--cursor", "x"), ("--format", "yaml")):
            p = d.client("fund", "invoice", "list", *args)
            expect(p.returncode == 1 and p.stdout == "", f"{args}: {p.returncode} {p.stderr}")

    @tap.case("medaid statement --month: json as received; ndjson, csv and table rows are "
              "those of the answer (the fund's and each OCMW's); totals the sums of the rows")
    def _():
        for who, org in (("fund", None), ("auditor", None), ("ocmw", OCMW), ("ocmw2", OCMW2)):
            r = d.request(who, "GET", f"/v1/statements?month={m}")
            expect(r.status == 200, f"{r!r}")
            s = r.json
            out = client_ok(d.client(who, "statement", "--month", m), f"{who} json")
            expect(out.rstrip("\n") == r.body.decode().rstrip("\n"), f"{who}: json differs")
            rows = s["lines"] if org else s["providers"] + s["ocmws"]
            expect(rows, f"{who}: no rows")
            out = client_ok(d.client(who, "statement", "--month", m, "--format", "ndjson"),
                            f"{who} ndjson")
            expect([json.loads(x) for x in out.splitlines()] == rows, f"{who}: ndjson\n{out}")
            cols = (["invoice", "line", "provider", "agreement", "ssin", "service_date", "code",
                     "quantity", "ocmw_cents"] if org else
                    ["provider", "ocmw", "invoices", "accepted_lines", "state_cents",
                     "paid_cents", "open_cents", "ocmw_cents"])
            out = client_ok(d.client(who, "statement", "--month", m, "--format", "csv"),
                            f"{who} csv")
            want = [cols] + [["" if x.get(c) is None else str(x[c]) for c in cols] for x in rows]
            got = csv_rows(out)
            expect(got == want, f"{who}: csv\n{out}")
            # the totals, summed here from the client's CSV
            if org:
                expect(sum(int(x[8]) for x in got[1:]) == s["totals"]["ocmw_cents"], out)
            else:
                expect(sum(int(x[4] or 0) for x in got[1:]) == s["totals"]["state_cents"] and
                       sum(int(x[5] or 0) for x in got[1:]) == s["totals"]["paid_cents"] and
                       sum(int(x[7] or 0) for x in got[1:]) == s["totals"]["ocmw_cents"], out)
            out = client_ok(d.client(who, "statement", "--month", m, "--format", "table"),
                            f"{who} table")
            head, _, tail = out.partition("\n\n")
            lines = head.splitlines()
            expect(lines[0].split() == cols and len(lines) == len(rows) + 1 and
                   [x.split()[0] for x in lines[1:]] ==
                   [str(x[cols[0]]) if x.get(cols[0]) is not None else "-" for x in rows], f"{who}: table\n{out}")
            expect(re.search(rf"^totals\.ocmw_cents +{s['totals']['ocmw_cents']}$", tail, re.M),
                   f"{who}: table totals\n{out}")
        empty = client_ok(d.client("fund", "statement", "--month", "2001-01", "--format", "csv"),
                          "empty month")
        expect(empty == "provider,ocmw,invoices,accepted_lines,state_cents,paid_cents,"
               "open_cents,ocmw_cents\n", empty)
        client_refused(d.client("provider", "statement", "--month", m), "a provider", "403")
        for args in ((), ("--month", "2026-13"), ("--month", "2026-1")):
            p = d.client("fund", "statement", *args)
            expect(p.returncode == 1 and p.stdout == "", f"{args}: {p.returncode} {p.stderr}")


def input_tests(env, tap, d):
    @tap.case("bad invoices: 400 malformed, 422 per field, 2^53 bound, unknown fields; 403")
    def _():
        a = W.invoices[0]["lines"][0]["agreement"]
        ok = line(a, "101076", 1, 0, 0)
        problem(d.request("provider", "POST", "/v1/invoices", "{"), 400, "malformed_json")
        for body, field, code in (
                ({"lines": []}, "lines", "required"),
                ({}, "lines", "required"),
                ({"lines": [ok], "x": 1}, "x", "unknown_field"),
                ({"lines": [{**ok, "y": 1}]}, "lines[0].y", "unknown_field"),
                ({"lines": [{**ok, "agreement": "A1"}]}, "lines[0].agreement",
                 "invalid_agreement"),
                ({"lines": [{**ok, "code": "12"}]}, "lines[0].code", "invalid_code"),
                ({"lines": [{**ok, "quantity": 0}]}, "lines[0].quantity", "out_of_range"),
                ({"lines": [{**ok, "state_cents": -1}]}, "lines[0].state_cents",
                 "out_of_range"),
                ({"lines": [{**ok, "ocmw_cents": 1.5}]}, "lines[0].ocmw_cents", None),
                ({"lines": [{k: v for k, v in ok.items() if k != "patient_cents"}]},
                 "lines[0].patient_cents", "required"),
                ({"lines": [ok] * 201}, "lines", "too_many"),
                ({"reference": "a b", "lines": [ok]}, "reference", "invalid_reference")):
            problem(d.request("provider", "POST", "/v1/invoices", body), 422,
                    "validation_failed", field=field, field_code=code)
        big = ('{"lines":[{"agreement":"' + a + '","code":"101076","quantity":1,'
               '"state_cents":9007199254740992,"ocmw_cents":0,"patient_cents":0}]}')
        problem(d.request("provider", "POST", "/v1/invoices", big), 422, "validation_failed",
                field_code="out_of_range")
        problem(d.request("fund", "POST", "/v1/invoices", {"lines": [ok]}), 403, "forbidden")
        n = env.psql("SELECT count(*) FROM invoice WHERE answer LIKE '%\"lines\":[]%'")
        expect(n == "0", "nothing half-written")


def audit_tests(env, tap, d):
    @tap.case("audit: invoices, every line outcome and payments are in the trail; it verifies")
    def _():
        ids = [x["invoice"] for x in W.invoices]
        n_lines = sum(len(x["lines"]) for x in W.invoices)
        got = env.psql("SELECT action || ' ' || count(*) FROM audit_log WHERE action IN"
                       " ('invoice.submit', 'invoice.line_accept', 'invoice.line_reject',"
                       " 'payment.add') AND split_part(object, '/', 1) = ANY (ARRAY['"
                       + "','".join(ids) + "']) GROUP BY action ORDER BY action")
        counts = dict(x.split(" ") for x in got.splitlines())
        acc = sum(1 for x in W.invoices for ln in x["lines"] if ln["accepted"])
        expect(int(counts.get("invoice.submit", 0)) == len(ids) and
               int(counts.get("invoice.line_accept", 0)) == acc and
               int(counts.get("invoice.line_reject", 0)) == n_lines - acc and
               int(counts.get("payment.add", 0)) ==
               sum(len(v) for v in W.payments.values()), f"{counts} ({len(ids)} invoices)")
        v = d.request("auditor", "GET", "/v1/audit/verify", max_time=60)
        expect(v.status == 200 and v.json.get("intact") is True, f"{v!r}")
        r = env.psql_as("medaid_app", "UPDATE invoice_line SET reason = NULL", check=False)
        expect(r.returncode != 0, "the daemon's role may change invoice lines")
        r = env.psql_as("medaid_app", "DELETE FROM payment", check=False)
        expect(r.returncode != 0, "the daemon's role may delete payments")
