"""Integration tests: a batch of 1,000 questions for 1,000 different people.

Four kinds of person, 250 of each: a decision whose cover pays the patient share up to a
monthly cap (the bench's usual person), one that pays no patient share, one with two
covers, and no decision at all. One decision of each kind is recorded through the API;
the other persons get a copy of it (the same body, their own SSIN and reference) written
by the superuser with triggers off, as scripts/bench loads its data. Every question has
one tariff item. The batch must answer every person as a single POST /v1/coverage
answers an untouched person of the same kind (equal but for the agreement number and
the decision's number), in order, and record each answer under its own person.
"""

import json

from harness import Daemon, day, expect, new_ssin, started, clean_exit
from tests_agreements import AGREEMENT_RE, cover, person, question

PER_KIND = 250
TARIFFS = [{"code": "101076", "period": {"start": day(-400), "end": day(400)},
            "fee_cents": 3000, "patient_share_cents": 600, "care_types": ["general_practice"]}]


def clone(env, template_id, ssins):
    """Copies of decision template_id for each SSIN (superuser, triggers off)."""
    arr = "{" + ",".join(ssins) + "}"
    sql = f"""
SET session_replication_role = replica;
BEGIN;
CREATE TEMP TABLE bclone AS
  SELECT s AS ssin, 'D' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'
         || lpad(nextval('decision_number_seq')::text, 8, '0') AS id
    FROM unnest('{arr}'::text[]) s;
INSERT INTO decision (id, ocmw, ssin, kind, created_by, status, period)
  SELECT c.id, d.ocmw, c.ssin, d.kind, d.created_by, d.status, d.period
    FROM bclone c, decision d WHERE d.id = '{template_id}';
INSERT INTO decision_version
    (decision_id, version, status, period_start, period_end, body, recorded_by, change)
  SELECT c.id, 1, v.status, v.period_start, v.period_end,
         jsonb_set(jsonb_set(v.body, '{{beneficiary,ssin}}', to_jsonb(c.ssin)),
                   '{{reference}}', to_jsonb('IT/BATCH/' || c.ssin)),
         v.recorded_by, 'create'
    FROM bclone c, decision_version v WHERE v.decision_id = '{template_id}' AND v.version = 1;
COMMIT;
"""
    path = env.tmp / "batch-clone.sql"
    path.write_text(sql)
    env.superuser_psql(f"\\i {path}")
    n = env.psql(f"SELECT count(*) FROM decision WHERE ssin = ANY('{arr}'::text[])")
    expect(n == str(len(ssins)), f"{n} of {len(ssins)} decisions copied")


def normal(answer):
    """An answer without what differs from one person to another of the same kind (the
    signature covers the agreement number)."""
    a = json.loads(json.dumps(answer))
    a.pop("agreement", None)
    a.pop("signature", None)
    if isinstance(a.get("decision"), dict):
        a["decision"].pop("id", None)
    return a


def run(env, tap):
    d = Daemon(env, "batches", workers=2, db_pool_size=4, max_body_bytes=4 * 1048576,
               principal_cache_ms=60000)
    if not started(tap, d):
        return
    kinds = {}

    @tap.case("set-up: a tariff, 4 kinds of person, 250 of each (+1 asked alone)")
    def _():
        r = d.request("admin", "PUT", "/v1/tariffs", TARIFFS)
        expect(r.status in (200, 201), f"tariff import: {r!r}")
        made = {
            "capped": person(d, [cover("general_practice", share="partial", cap=5000)]),
            "no_share": person(d, [cover("general_practice", share="none")]),
            "two_covers": person(d, [cover("general_practice"), cover("paramedical")]),
        }
        for k, (ssin, created) in made.items():
            did = created.get("id") if isinstance(created, dict) else None
            expect(did, f"{k}: the template decision has no id: {created!r}")
            ssins = [new_ssin() for _ in range(PER_KIND + 1)]
            clone(env, did, ssins)
            kinds[k] = ssins
        kinds["none"] = [new_ssin() for _ in range(PER_KIND + 1)]

    @tap.case("a batch of 1,000 questions for 1,000 people answers each as a single question "
              "answers a person of the same kind, in order, each recorded under its person")
    def _():
        expect(len(kinds) == 4, "no set-up")
        items = [{"code": "101076", "quantity": 1}]
        t0 = day(0)
        # the single answers: the last person of each kind, not in the batch
        single = {}
        for k, ssins in kinds.items():
            r = d.request("provider", "POST", "/v1/coverage", question(ssins[-1], t0, items=items))
            expect(r.status == 200 and AGREEMENT_RE.match((r.json or {}).get("agreement") or ""),
                   f"{k}: single question: {r!r}")
            single[k] = normal(r.json)
        expect(single["capped"].get("caps"), f"the capped kind states no cap: {single['capped']}")
        order = [(k, kinds[k][i]) for i in range(PER_KIND) for k in sorted(kinds)]
        qs = [question(s, t0, items=items) for _k, s in order]
        r = d.request("provider", "POST", "/v1/coverage/batch", {"questions": qs}, max_time=180)
        expect(r.status == 200, repr(r))
        ans = (r.json or {}).get("answers")
        expect(isinstance(ans, list) and len(ans) == len(qs), f"answers: {repr(r)[:500]}")
        wrong, nums = [], {}
        for i, ((k, s), x) in enumerate(zip(order, ans)):
            if not AGREEMENT_RE.match(x.get("agreement") or ""):
                wrong.append(f"answers[{i}] ({k}): no agreement: {x!r}")
                continue
            nums[x["agreement"]] = s
            if normal(x) != single[k]:
                wrong.append(f"answers[{i}] ({k}): {normal(x)!r}\n  alone: {single[k]!r}")
        expect(not wrong, f"{len(wrong)} of {len(qs)} answers differ; the first:\n"
               + "\n".join(wrong[:3]))
        expect(len(nums) == len(qs), f"{len(nums)} distinct agreements for {len(qs)} questions")
        arr = "{" + ",".join(nums) + "}"
        rows = env.psql(f"SELECT number, ssin FROM agreement WHERE number = ANY('{arr}'::text[])")
        got = dict(ln.split("|") for ln in rows.splitlines())
        bad = [n for n, s in nums.items() if got.get(n) != s]
        expect(not bad, f"{len(bad)} agreements recorded under another person, e.g. "
               f"{bad[:3]} {[got.get(n) for n in bad[:3]]}")

    clean_exit(tap, d)
