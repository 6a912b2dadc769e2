"""Group plans: the shape of the query plans of the daemon's statements on a data set
large enough for the planner's choice to matter (issue 12, "Data growth").

A database of its own (medaid_plans, migrated by medaidd migrate, so the other groups
never see its rows) gets N beneficiaries (50 000) with what a registry in use
accumulates around them (decision versions, agreements, voids, cap usage, card
consultations, invoices and their lines, payments, idempotency keys, audit records and
their Merkle tree, checkpoints and tree heads), generated in SQL as scripts/bench does,
then ANALYZEd. Every statement of daemon/db/statements.h, as medaid-bench-sql prints it
from the daemon's own table (so this follows the daemon), is PREPAREd and EXECUTEd as the
daemon's role (medaid_app) with realistic parameters, in a transaction rolled back, with
auto_explain logging (to this session only, as NOTICEs) the plan of the statement and of
every statement nested in the SQL functions and triggers it runs. Each is run with
plan_cache_mode = force_custom_plan and force_generic_plan (a prepared statement gets the
generic plan once it is no dearer than the custom ones); statements with optional
filters ("$n IS NULL OR ...") are run instead five times then under plan_cache_mode =
auto, which is what the daemon gets. Asserted: no Seq Scan on a table that grows (SMALL:
the reference tables that do not; ALLOWED: the scans the planner gives up as their table
grows, each with its reason), and the indexes named in EXPECT_INDEX used.
"""

import json
import re

from harness import expect, lib
from harness import run as sh

N = 50000  # beneficiaries: enough for an index to win over a scan by far
DB = "medaid_plans"
TZ = "Europe/Brussels"

# Tables a sequential scan may read, each for its reason. Everything else grows with
# the beneficiaries, the answers or the trail.
SMALL = {
    "audit_head": "one row per hash chain (16, schema/004): fixed",
    "tariff": "the tariff table: some thousands of codes, not per person or answer",
    "tariff_import": "one row per tariff import (a few a year)",
    "agreement_key": "one row per signing key (rotated rarely)",
    "principal": "one row per certificate (providers' and OCMWs' systems, not persons); "
                 "read by its unique index on the request path, scanned only by "
                 "provider_kinds_at's few rows per organisation",
}

# A sequential scan of a growing table the planner chose because the table is still small
# beside what the statement reads, and that it gives up as the table grows (costed: one
# scan of the whole table against per-row index probes), each for its reason.
ALLOWED = {
    ("invoice_facts", "agreement_void"):
        "the voided test of the quoted agreements is a hashed SubPlan over all voids while "
        "they are few (agreement_items' jsonb_array_elements counts as 100 rows); "
        "agreement_void_pkey probes once the voids outweigh 100 probes",
    ("audit_consultations", "agreement_void"):
        "a provider's answers joined to the voids by hash while the voids are few "
        "(agreement_void_pkey probes once they outweigh the provider's answers)",
    ("statement_fund", "invoice_line"):
        "one month's invoices are 1/12 of this data set, so hashing all lines is cheaper; "
        "the month's share falls as years accumulate, then invoice_line_pkey per invoice "
        "(a monthly report, not a per-answer path)",
}

ALLOWED_SEEN = set()  # which of them this run's plans had (printed at the end)

# Statements that are on no request path, each for its reason.
EXEMPT = {
    "audit_missing": "not used by any route any more (audit_missing_page replaced it): "
                     "a check of the whole trail by design",
}

# Indexes that must appear in a statement's plans (the hot paths).
PERSON = ("decision_one_per_person_per_day", "decision_ssin_idx")  # a person's decisions
EXPECT_INDEX = {  # name -> [(one of these, ...), ...]
    "principal_by_fingerprint": [("principal_cert_fingerprint_key",)],
    "coverage_lookup": [PERSON, ("decision_version_pkey",)],
    "coverage_as_of": [PERSON, ("decision_version_pkey",)],
    "agreement_get": [("agreement_pkey",)],
    "decisions_of_person": [PERSON, ("decision_version_pkey",)],
    "decision_get": [("decision_pkey",), ("decision_version_pkey",)],
    "decision_conflict": [PERSON],
    "card_lookup": [PERSON],
    "agreement_insert_many": [("cap_usage_pkey",)],
    "audit_reads_list": [("audit_log_person_idx",)],
    "invoice_get": [("invoice_pkey",)],
    "invoice_facts": [("agreement_pkey",)],
    "audit_tree_inclusion": [("audit_log_pkey",)],
}


def load_sql(n):
    """The data set, as the superuser with triggers off (the trail's per-row triggers
    would take minutes); consistent where the statements explained write (the chain
    heads, the sequences)."""
    return f"""
SET session_replication_role = replica;
CREATE SCHEMA plans;
CREATE FUNCTION plans.ssin(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT b || lpad((97 - (b::bigint % 97))::text, 2, '0')
    FROM (SELECT to_char(date '1930-01-01' + (i % 25000)::int, 'YYMMDD')
                 || lpad(((i / 25000) % 997 + 1)::text, 3, '0') AS b) s
$$;
CREATE FUNCTION plans.kbo(k bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT b || lpad((97 - (b::bigint % 97))::text, 2, '0')
    FROM (SELECT '0' || (2100000 + k)::text AS b) s
$$;
CREATE FUNCTION plans.num(p text, i bigint) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT p || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(i::text, 8, '0')
$$;
GRANT USAGE ON SCHEMA plans TO PUBLIC;

INSERT INTO principal (cert_fingerprint, subject, role, organisation, name, kind)
  SELECT encode(sha256(('p' || g)::bytea), 'hex'), 'CN=plans ' || g,
         CASE WHEN g <= 580 THEN 'ocmw' WHEN g <= 2580 THEN 'provider'
              WHEN g <= 2590 THEN 'fund' ELSE 'auditor' END,
         CASE WHEN g <= 580 THEN plans.kbo(g - 1)
              WHEN g <= 2580 THEN (10012345600 + g)::text ELSE '0212345678' END,
         'plans ' || g,
         CASE WHEN g > 580 AND g <= 2580 THEN 'general_practitioner' END
    FROM generate_series(1, 2600) g;
CREATE TABLE plans.p AS
  SELECT (SELECT min(id) FROM principal WHERE role = 'ocmw') AS ocmw_id,
         (SELECT min(id) FROM principal WHERE role = 'provider') AS provider_id,
         (SELECT min(id) FROM principal WHERE role = 'fund') AS fund_id;

CREATE TABLE plans.gen AS
  SELECT i, plans.ssin(i) AS ssin, plans.kbo(i % 580) AS ocmw, plans.num('D', 1000 + i) AS id,
         current_date - (i % 150)::int AS s, current_date - (i % 150)::int + 180 AS e
    FROM generate_series(1, {n}) i;

INSERT INTO decision (id, ocmw, ssin, kind, created_by, status, period, current_version)
  SELECT id, ocmw, ssin, 'coverage', (SELECT ocmw_id FROM plans.p), 'active',
         daterange(s, e, '[]'), CASE WHEN i % 5 = 0 THEN 2 ELSE 1 END FROM plans.gen;
INSERT INTO decision_version
    (decision_id, version, status, period_start, period_end, body, recorded_by, change,
     recorded_at)
  SELECT g.id, v, 'active', g.s, g.e,
         jsonb_build_object('kind', 'coverage',
           'beneficiary', jsonb_build_object('ssin', g.ssin, 'death_date', NULL),
           'period', jsonb_build_object('start', g.s, 'end', g.e),
           'reference', 'PLANS/' || g.i, 'urgent_attestation_required', true,
           'covers', jsonb_build_array(jsonb_build_object('care_type', 'general_practice',
             'period', jsonb_build_object('start', g.s, 'end', g.e),
             'ocmw_pays', jsonb_build_object('insurance_part', 'none',
               'patient_share', 'partial', 'supplements', 'none'),
             'patient_share_cap_cents', 5000, 'prescription_required', false,
             'convention', false, 'designated_providers', '[]'::jsonb))),
         (SELECT ocmw_id FROM plans.p), CASE v WHEN 1 THEN 'create' ELSE 'update' END,
         now() - interval '200 days' + g.i * interval '1 minute' + v * interval '1 second'
    FROM plans.gen g, generate_series(1, 2) v WHERE v = 1 OR g.i % 5 = 0;
INSERT INTO idempotency_key (organisation, key, request_hash, decision_id, version, status_code)
  SELECT ocmw, 'key-' || i, 'h' || i, id, 1, 201 FROM plans.gen WHERE i % 10 = 0;
SELECT setval('decision_number_seq', 1000 + {n});

-- two answers per beneficiary, over the last 150 days; 4 in 5 under the cap
INSERT INTO agreement (number, issued_at, provider_id, provider_org, ssin, service_date,
    care_type, covered, reason, decision_id, decision_version, question, answer, cap_cents,
    known_at)
  SELECT plans.num('A', k), now() - interval '150 days' + k * interval '1 minute',
         (SELECT provider_id FROM plans.p), (10012345600 + 581 + k % 2000)::text, g.ssin,
         current_date - (k % 140)::int, 'general_practice', k % 50 <> 0,
         CASE WHEN k % 50 = 0 THEN 'no_decision' END,
         CASE WHEN k % 50 <> 0 THEN g.id END, CASE WHEN k % 50 <> 0 THEN 1 END,
         jsonb_build_object('ssin', g.ssin, 'service_date', current_date,
                            'care_type', 'general_practice'),
         '{{"agreement":"' || plans.num('A', k) || '"}}',
         CASE WHEN k % 5 <> 0 THEN 600 ELSE 0 END,
         now() - interval '150 days' + k * interval '1 minute'
    FROM plans.gen g, generate_series(0, 1) j, LATERAL (SELECT g.i * 2 + j AS k) kk;
SELECT setval('agreement_number_seq', 2 * {n} + 10);
INSERT INTO agreement_void (number, voided_by)
  SELECT plans.num('A', k), (SELECT provider_id FROM plans.p)
    FROM generate_series(2, 2 * {n}, 19) k;
INSERT INTO cap_usage (ssin, care_type, month, used_cents)
  SELECT ssin, 'general_practice', date_trunc('month', current_date)::date, 1200
    FROM plans.gen WHERE i % 5 <> 0;
INSERT INTO card_consultation (number, issued_at, provider_id, provider_org, ssin, date_from,
    date_to, covered, reasons, ocmws, answer)
  SELECT plans.num('C', i), now() - interval '150 days' + i * interval '2 minute',
         (SELECT provider_id FROM plans.p), (10012345600 + 581 + i % 2000)::text, ssin,
         current_date - 10, current_date, true, '{{}}', ARRAY[ocmw], '{{}}'
    FROM plans.gen WHERE i % 2 = 0;
SELECT setval('card_number_seq', {n} + 10);

-- an invoice per 20 beneficiaries, over 12 months, 4 lines each
INSERT INTO invoice (id, provider_id, provider_org, invoice_date, reference, idem_key,
    request_hash, status, state_cents, ocmw_cents, answer)
  SELECT plans.num('I', i), (SELECT provider_id FROM plans.p),
         (10012345600 + 581 + i % 2000)::text, current_date - (i % 365)::int, 'R' || i,
         'ik-' || i, 'h', 'accepted', 4000, 2400, '{{"invoice":"' || plans.num('I', i) || '"}}'
    FROM generate_series(1, {n} / 20) i;
SELECT setval('invoice_number_seq', {n} / 20 + 10);
INSERT INTO invoice_line (invoice_id, line_no, agreement, code, quantity, state_cents,
    ocmw_cents, patient_cents, accepted, reason, ocmw, ssin, service_date)
  SELECT plans.num('I', i), l, plans.num('A', i * 8 + l), '101076', 1, 1000, 600, 0, true,
         NULL, plans.kbo((i * 4 + l) % 580), plans.ssin(i * 4 + l), current_date
    FROM generate_series(1, {n} / 20) i, generate_series(1, 4) l;
INSERT INTO payment (invoice_id, amount_cents, paid_on, reference, recorded_by)
  SELECT plans.num('I', i), 100, current_date, 'P' || i, (SELECT fund_id FROM plans.p)
    FROM generate_series(1, {n} / 20, 2) i;

-- the trail: 3 records per beneficiary over 16 chains, and its tree (all but the last
-- 100 records in it)
INSERT INTO audit_log (seq, chain, chain_seq, recorded_at, principal_id, organisation,
    action, object, detail, prev_hash, hash)
  SELECT q, (q - 1) % 16, (q - 1) / 16 + 1, now() - interval '150 days' + q * interval '20 s',
         (SELECT provider_id FROM plans.p), '10012345681',
         CASE q % 3 WHEN 0 THEN 'agreement.issue' WHEN 1 THEN 'read.coverage'
                    ELSE 'decision.create' END,
         CASE q % 3 WHEN 0 THEN plans.num('A', q / 3 * 2) ELSE plans.num('D', 1000 + q / 3) END,
         '{{"ssin":"' || plans.ssin(q / 3 + 1) || '"}}', repeat('0', 64), repeat('1', 64)
    FROM generate_series(1, 3 * {n}) q;
SELECT setval('audit_seq', 3 * {n});
UPDATE audit_head h SET last_chain_seq = m.cs, last_seq = m.s
  FROM (SELECT chain, max(chain_seq) AS cs, max(seq) AS s FROM audit_log GROUP BY chain) m
 WHERE m.chain = h.chain;
INSERT INTO audit_tree_leaf (idx, seq) SELECT q - 1, q FROM generate_series(1, 3 * {n} - 100) q;
INSERT INTO audit_tree_node (level, idx, hash)
  SELECT lv, i, sha256((lv || '/' || i)::bytea)
    FROM generate_series(0, 20) lv,
         LATERAL generate_series(0, (3 * {n} - 100) / (1 << lv) - 1) i;
INSERT INTO audit_checkpoint (slot, key_id, signed, signature, answer)
  SELECT s, 'k', 's', 'x', '{{}}' FROM generate_series(1, 3000) s;
INSERT INTO audit_tree_head (slot, tree_size, root_hash, key_id, signed, signature, answer)
  SELECT s, s, 'r', 'k', 's', 'x', '{{}}' FROM generate_series(1, 3000) s;
INSERT INTO tariff_import (imported_by, lines, sha256, in_force_at)
  SELECT (SELECT ocmw_id FROM plans.p), 1, 'x', now() - interval '1 day';
INSERT INTO tariff (code, period, fee_cents, patient_share_cents, care_types, imported_by,
    import_id)
  SELECT lpad(c::text, 6, '0'), daterange(current_date - 400, current_date + 400, '[]'),
         3000, 600, ARRAY['general_practice'], (SELECT ocmw_id FROM plans.p),
         (SELECT max(id) FROM tariff_import)
    FROM generate_series(101000, 102999) c;
"""


def lit(v):
    """An SQL literal of a Python value (None: NULL)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def cases(f):
    """Realistic parameters of every statement: name -> [list of SQL expressions, ...].
    f: facts read from the data set."""
    s0, d0, a0, i0 = f["ssin"], f["decision"], f["agreement"], f["invoice"]
    today, start, end = f["today"], f["start"], f["end"]
    pid, porg, oid, ocmw, fund = f["provider_id"], f["provider_org"], f["ocmw_id"], \
        f["ocmw"], f["fund_id"]
    body = "'" + json.dumps({"kind": "coverage"}) + "'"
    new_a = ["plans.num('A', 9000001)", "plans.num('A', 9000002)"]
    L = lit
    return {
        "principal_by_fingerprint": [[L(f["fingerprint"])]],
        "health": [[]],
        "decision_insert": [[L(ocmw), L(f["new_ssin"]), L("coverage"), L(oid), L(start),
                             L(end), body, L("plans-new-key"), L("h")]],
        "decision_new_version": [[L(d0), L(ocmw), "1", L("active"), L(start), L(end), body,
                                  L(oid), L("update"), "NULL", L("h")]],
        "idempotency_get": [[L(f["idem_org"]), L(f["idem_key"])]],
        "decision_conflict": [[L(s0), L("coverage"), L(start), L(end), "NULL"],
                              [L(s0), L("coverage"), L(start), L(end), L(d0)]],
        "decision_history": [[L(d0)]],
        "decision_get": [[L(d0), "NULL"], [L(d0), "1"]],
        "decisions_of_person": [[L(s0)]],
        "coverage_lookup": [[L(s0), L(today), L(TZ), L("general_practice"), L("{101076}")],
                            [L(s0), L(today), L(TZ), L("general_practice"), L("{}")]],
        "agreement_insert_many": [[
            f"ARRAY[{pid}, {pid}]::bigint[]", f"ARRAY[{L(porg)}, {L(porg)}]",
            f"ARRAY[{L(s0)}, {L(f['ssin2'])}]", f"ARRAY[{L(today)}, {L(today)}]::date[]",
            "ARRAY['general_practice', 'general_practice']", "ARRAY[true, false]",
            "ARRAY[NULL, 'no_decision']::text[]", f"ARRAY[{L(d0)}, NULL]::text[]",
            "ARRAY[1, NULL]::integer[]", "ARRAY['{}'::jsonb, '{}'::jsonb]",
            "ARRAY['{}', '{}']", "ARRAY[now(), NULL]::timestamptz[]",
            f"ARRAY[{new_a[0]}, {new_a[1]}]",
            # the first answer takes 600 of a 5000 cap, stated with the month's usage
            "ARRAY[600, NULL]::bigint[]", "ARRAY[5000, NULL]::bigint[]",
            f"ARRAY[{f['used']}, NULL]::bigint[]"]],
        "replica_replay": [[]],
        "agreement_get": [[L(a0)]],
        "agreement_void": [[L(a0), L(f["agreement_org"]), L(pid)]],
        "tariff_import": [["ARRAY['201076']", f"ARRAY[{L(start)}]::date[]",
                           f"ARRAY[{L(end)}]::date[]", "ARRAY[3000]::bigint[]",
                           "ARRAY[600]::bigint[]", "ARRAY['general_practice']", L(oid), "1",
                           L("x")]],
        "tariff_get": [[L("101076"), L(today), "NULL"], [L("101076"), "NULL", "now()"]],
        "audit_head": [[]],
        "audit_page": [["3", "1000", "100"]],
        "audit_consultations": [
            [L(s0)] + ["NULL"] * 8 + ["50"],
            ["NULL", L(porg)] + ["NULL"] * 7 + ["50"],
            ["NULL", "NULL", L(ocmw)] + ["NULL"] * 6 + ["50"],
            ["NULL"] * 5 + ["now() - interval '1 day'", "now()", "NULL", "NULL", "50"],
            ["NULL"] * 8 + [L(a0), "50"],
        ],
        "audit_decisions": [
            [L(ocmw)] + ["NULL"] * 6 + ["50"],
            ["NULL", L(s0)] + ["NULL"] * 5 + ["50"],
            ["NULL", "NULL", "now() - interval '1 day'"] + ["NULL"] * 4 + ["50"],
            ["NULL"] * 4 + [L(f["cursor_at"]), L(d0), "1", "50"],
        ],
        "coverage_as_of": [[L(s0), L(today), L(TZ), L("general_practice"), L("{101076}"),
                            "now()", L(porg)]],
        "audit_reads_append": [[f"ARRAY[{pid}]::bigint[]", "ARRAY['read.coverage']",
                                f"ARRAY[{L(d0)}]", "ARRAY['{\"ssin\":\"" + s0 + "\"}']"]],
        "audit_reads_list": [[L(s0), "NULL", "50"], [L(s0), "1000", "50"]],
        "audit_checkpoint_heads": [[]],
        "audit_checkpoint_insert": [["NULL", L("k"), L("s"), L("x"), L("{}")],
                                    ["300", L("k"), L("s"), L("x"), L("{}")]],
        "audit_checkpoint_latest": [[]],
        "invoice_facts": [[L(f["agreement_org"]), f"ARRAY[{L(a0)}, {L(f['agreement2'])}]"]],
        "invoice_record": [[L(pid), L(f["agreement_org"]), L("plans-ik"), L("h"), L(today),
                            L("R-new"), L('{"status":"accepted"}'), L("accepted"),
                            L(json.dumps([{"agreement": a0, "code": "101076", "quantity": 1,
                                           "state_cents": 1000, "ocmw_cents": 0,
                                           "patient_cents": 0, "accepted": False,
                                           "reason": "no_item"}])),
                            L(json.dumps([{"agreement": a0, "voided": False, "code": None,
                                           "billed": None}]))]],
        "invoice_by_key": [[L(f["invoice_org"]), L(f["invoice_key"])]],
        "invoice_get": [[L(i0)]],
        "invoice_list": [
            [L(f["invoice_org"])] + ["NULL"] * 4 + ["50"],
            ["NULL", L(ocmw)] + ["NULL"] * 3 + ["50"],
            ["NULL", "NULL", L(f["month"])] + ["NULL"] * 2 + ["50"],
            ["NULL"] * 4 + [L(i0), "50"],
        ],
        "payment_insert": [[L(i0), "1", L(today), L("P-new"), L(fund)]],
        "statement_fund": [[L(f["month"])]],
        "statement_ocmw": [[L(f["month"]), L(ocmw)]],
        "card_lookup": [[L(s0), L(f["from"]), L(today), L(TZ)]],
        "card_insert": [[L(pid), L(porg), L(s0), L(f["from"]), L(today), "true", "'{}'",
                         f"ARRAY[{L(ocmw)}]", L('{"x":1}')]],
        "agreement_numbers": [["3", "NULL", "NULL"]],
        "agreement_keys": [[]],
        "audit_missing_page": [[L("decision_version"), "NULL", "100"],
                               [L("decision_version"), L(d0), "100"],
                               [L("agreement"), L(a0), "100"]],
        "audit_tree_extend": [["10"]],
        "audit_tree_head_insert": [["NULL", "10", L("r"), L("k"), L("s"), L("x"), L("{}")]],
        "audit_tree_head_latest": [[]],
        "audit_tree_inclusion": [[str(f["seq"]), "NULL", str(f["tree_size"])],
                                 ["NULL", L(f["issued"]), str(f["tree_size"])]],
        "audit_tree_consistency": [["1000", str(f["tree_size"])]],
    }


def psql_session(env, script, timeout=600):
    """One psql session as the superuser on the plans database (LOAD needs it): what it
    wrote to stderr (the NOTICEs and errors; results are thrown away)."""
    path = env.tmp / "plans-session.sql"
    path.write_text(script)
    p = lib(f"_pg_psql '{env.sock}' {env.port} {DB} -At -o /dev/null -f '{path}' 2>&1",
            timeout=timeout)
    return p.stdout


def plans_of(output):
    """The plans auto_explain logged (JSON after "plan:"), in order."""
    out = []
    dec = json.JSONDecoder()
    for m in re.finditer(r"plan:\s*\n?", output):
        i = m.end()
        while i < len(output) and output[i] in " \t\n":
            i += 1
        try:
            doc, _ = dec.raw_decode(output, i)
        except ValueError:
            continue
        out.append(doc)
    return out


def nodes(plan):
    yield plan
    for c in plan.get("Plans", []):
        yield from nodes(c)


def check(doc, name):
    """(seq-scanned growing tables, indexes used) of one logged plan of statement NAME."""
    bad, idx = set(), set()
    for n in nodes(doc["Plan"]):
        rel = n.get("Relation Name")
        if n.get("Node Type") == "Seq Scan" and rel not in SMALL and \
                n.get("Schema", "public") == "public":
            if (name, rel) in ALLOWED:
                ALLOWED_SEEN.add((name, rel))
            else:
                bad.add(rel)
        if "Index Name" in n:
            idx.add(n["Index Name"])
    return bad, idx


PROLOGUE = """\\set ON_ERROR_STOP 0
LOAD 'auto_explain';
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_format = json;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
"""


def segment(key, mode, sql, params, runs):
    """One explained run: a marker, RUNS executions unlogged (the plan cache's history
    under plan_cache_mode = auto), then one logged; rolled back. auto_explain logs as
    NOTICE, to this client only (not to the server log)."""
    call = f"EXECUTE s({params});" if params else "EXECUTE s;"
    return "\n".join([
        "RESET ROLE;",
        "SET auto_explain.log_min_duration = -1;",
        f"SET plan_cache_mode = {mode};",
        f"DO $$BEGIN RAISE NOTICE 'PLANS-MARK {key}'; END$$;",
        "SET ROLE medaid_app;",
        "BEGIN;",
        f"PREPARE s AS {sql};",
        *([call] * runs),
        "RESET ROLE;",
        "SET auto_explain.log_min_duration = 0;",
        "SET ROLE medaid_app;",
        call,
        "ROLLBACK;",
        "DEALLOCATE ALL;", ""])


def run_plans(env, tap):
    bench_sql = env.build / "tests" / "bench" / "medaid-bench-sql"
    expect(bench_sql.exists(), f"{bench_sql} is missing (build with -Dtests=true)")
    stmts = [json.loads(line) for line in sh([str(bench_sql), "--json"]).stdout.splitlines()]
    expect(len(stmts) > 30, f"medaid-bench-sql --json gave {len(stmts)} statements")

    @tap.case(f"a database of its own, migrated; {N} beneficiaries and what grows "
              "around them loaded and ANALYZEd")
    def _():
        lib(f"_pg_psql '{env.sock}' {env.port} postgres -c 'CREATE DATABASE {DB} OWNER medaid'")
        db = env.database.replace("dbname=medaid", f"dbname={DB}")
        odb = env.owner_database.replace("dbname=medaid", f"dbname={DB}")
        conf = env.write_conf("plans-migrate", {"database": db, "owner_database": odb})
        p = sh([str(env.medaidd), "migrate", "-c", str(conf)], check=False,
                env=env.daemon_env())
        expect(p.returncode == 0, f"migrate: {p.stderr[-1500:]}")
        path = env.tmp / "plans-load.sql"
        path.write_text(load_sql(N))
        lib(f"_pg_psql '{env.sock}' {env.port} {DB} -f '{path}'", timeout=600)
        lib(f"_pg_psql '{env.sock}' {env.port} {DB} -c 'VACUUM ANALYZE'", timeout=600)

    q = ("SELECT row_to_json(x) FROM (SELECT "
         " (SELECT ssin FROM plans.gen WHERE i = 12346) AS ssin,"
         " (SELECT ssin FROM plans.gen WHERE i = 12347) AS ssin2,"
         f" plans.ssin({N} + 7) AS new_ssin,"
         " (SELECT id FROM plans.gen WHERE i = 12346) AS decision,"
         " (SELECT ocmw FROM plans.gen WHERE i = 12346) AS ocmw,"
         " (SELECT lower(period)::text FROM decision WHERE id = "
         "   (SELECT id FROM plans.gen WHERE i = 12346)) AS start,"
         " (SELECT (upper(period) - 1)::text FROM decision WHERE id = "
         "   (SELECT id FROM plans.gen WHERE i = 12346)) AS \"end\","
         " plans.num('A', 24693) AS agreement, plans.num('A', 24695) AS agreement2,"
         " (SELECT provider_org FROM agreement WHERE number = plans.num('A', 24693))"
         "   AS agreement_org,"
         " plans.num('I', 77) AS invoice,"
         " (SELECT provider_org FROM invoice WHERE id = plans.num('I', 77)) AS invoice_org,"
         " 'ik-77' AS invoice_key,"
         " (SELECT organisation FROM idempotency_key WHERE key = 'key-12340') AS idem_org,"
         " 'key-12340' AS idem_key,"
         " current_date::text AS today, (current_date - 10)::text AS \"from\","
         " date_trunc('month', current_date - 40)::date::text AS month,"
         " (SELECT ocmw_id FROM plans.p) AS ocmw_id,"
         " (SELECT provider_id FROM plans.p) AS provider_id,"
         " (SELECT fund_id FROM plans.p) AS fund_id,"
         " '10012345681' AS provider_org,"
         " (SELECT cert_fingerprint FROM principal ORDER BY id DESC LIMIT 1) AS fingerprint,"
         " coalesce((SELECT used_cents FROM cap_usage WHERE ssin = "
         "   (SELECT ssin FROM plans.gen WHERE i = 12346)), 0) AS used,"
         " (SELECT to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
         "   FROM decision_version WHERE decision_id = (SELECT id FROM plans.gen WHERE i = 30000)"
         "   AND version = 1) AS cursor_at,"
         " 90000 AS seq, (SELECT object FROM audit_log WHERE seq = 90003) AS issued,"
         " (SELECT count(*) FROM audit_tree_leaf) AS tree_size) x")
    fq = env.tmp / "plans-facts.sql"
    fq.write_text(q + ";\n")
    facts = json.loads(lib(f"_pg_psql '{env.sock}' {env.port} {DB} -At -f '{fq}'")
                       .stdout.strip().splitlines()[-1])
    table = cases(facts)
    names = {s["name"] for s in stmts}

    @tap.case("every statement of daemon/db/statements.h has parameters here "
              "(or a reason not to)")
    def _():
        missing = sorted(names - set(table) - set(EXEMPT))
        expect(not missing, f"no parameters for: {', '.join(missing)} (add them to "
               "tests_plans.py cases())")
        stale = sorted(set(table) - names)
        expect(not stale, f"parameters for statements the daemon has not: {stale}")

    runs = []  # (name, key, mode, params)
    script = [PROLOGUE]
    for st in stmts:
        name = st["name"]
        if name in EXEMPT or name not in table:
            continue
        optional = "IS NULL OR" in st["sql"]
        for mode in ["force_custom_plan", "auto" if optional else "force_generic_plan"]:
            for k, params in enumerate(table[name]):
                key = f"{name}/{mode}/{k}"
                args = ", ".join(params)
                runs.append((name, key, mode, args))
                script.append(segment(key, mode, st["sql"], args, 5 if mode == "auto" else 0))
    out = psql_session(env, "\n".join(script))
    parts = {}
    for chunk in re.split(r"(?m)^(?:psql:\S+ )?NOTICE:\s+PLANS-MARK ", out)[1:]:
        key, _, rest = chunk.partition("\n")
        parts[key.strip()] = rest

    for st in stmts:
        name = st["name"]
        if name in EXEMPT or name not in table:
            continue
        optional = "IS NULL OR" in st["sql"]
        mine = [r for r in runs if r[0] == name]
        want = EXPECT_INDEX.get(name, [])

        @tap.case(f"{name}: no sequential scan of a growing table "
                  f"({'custom plan, and under auto after 5 runs' if optional else 'custom and generic plans'}"
                  f"{'; ' + ', '.join(' or '.join(w) for w in want) if want else ''})")
        def _(mine=mine, want=want, name=name):
            problems, used = [], set()
            for _, key, mode, args in mine:
                text = parts.get(key)
                if text is None:
                    problems.append(f"{key}: not run")
                    continue
                err = re.search(r"(?m)^(psql:[^\n]*)?ERROR:.*(\n.*){0,3}", text)
                if err:
                    problems.append(f"{key} ({args[:100]}): {err.group(0)}")
                    continue
                docs = plans_of(text)
                if not docs:
                    problems.append(f"{key}: no plan logged: {text[-300:]}")
                for doc in docs:
                    bad, idx = check(doc, name)
                    used |= idx
                    if bad:
                        problems.append(
                            f"{key} ({args[:80]}): Seq Scan on {', '.join(sorted(bad))} in "
                            f"{doc.get('Query Text', '')[:200]!r}")
            for alternatives in want:
                if not set(alternatives) & used:
                    problems.append(f"none of {alternatives} used (used: {sorted(used)})")
            expect(not problems, "\n".join(problems))


def run(env, tap):
    run_plans(env, tap)
    print("# allowed scans in these plans: "
          + (", ".join(f"{n} on {t}" for n, t in sorted(ALLOWED_SEEN)) or "none")
          + "; listed but not seen: "
          + (", ".join(f"{n} on {t}" for n, t in sorted(set(ALLOWED) - ALLOWED_SEEN))
             or "none"))
