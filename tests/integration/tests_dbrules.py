"""Integration tests of the rules the database enforces itself, whatever the daemon
does: what the daemon's own role (medaid_app) may change, and that PostgreSQL's own
log never names a person (an overlap refusal used to print the SSIN in its DETAIL)."""

from harness import PRINCIPALS, ROOT, Daemon, expect, new_ssin, run as run_cmd
from tests_lifecycle import act, create
from tests_api import decision_body

OCMW_ORG = PRINCIPALS["ocmw"][1]
OCMW2_ORG = PRINCIPALS["ocmw2"][1]


def denied(env, sql):
    """None when medaid_app is refused sql with a permission error, else why not."""
    p = env.psql_as("medaid_app", sql, check=False)
    if p.returncode != 0 and "permission denied" in p.stderr:
        return None
    return f"as medaid_app, {sql!r}: exit {p.returncode}, {(p.stderr.strip() or p.stdout.strip())!r}"


def migrate(env):
    return run_cmd([str(env.medaidd), "migrate", "-c", str(env.conf)], check=False,
                   cwd=str(ROOT), env=env.daemon_env())


def run(env, tap):
    @tap.case("medaidd migrate: a database that recorded 006's earlier published text is "
              "migrated; one whose recorded checksum matches no published text is refused, "
              "naming the file")
    def _():
        current = env.psql("SELECT checksum FROM schema_migration WHERE version = 6")
        try:
            env.psql("UPDATE schema_migration SET checksum = "
                     "'5373b574a59747e4d6869122d7b0c538c83564f896461488c2e1fd76867e71e4' "
                     "WHERE version = 6")
            p = migrate(env)
            expect(p.returncode == 0, f"earlier text: exit {p.returncode} {p.stderr[-500:]}")
            env.psql("UPDATE schema_migration SET checksum = repeat('0', 64) WHERE version = 6")
            p = migrate(env)
            expect(p.returncode != 0 and "006_anchor.sql" in p.stderr and
                   "never edited" in p.stderr, f"unknown text: exit {p.returncode} {p.stderr}")
        finally:
            env.psql(f"UPDATE schema_migration SET checksum = '{current}' WHERE version = 6")
        p = migrate(env)
        expect(p.returncode == 0, f"restored: exit {p.returncode} {p.stderr[-500:]}")

    d = Daemon(env, "dbrules")

    @tap.case("medaidd starts and answers /v1/health")
    def _():
        d.start()

    if d.proc is None or d.proc.poll() is not None:
        return

    st = {}

    @tap.case("as medaid_app: a decision's number, OCMW, beneficiary, kind and creation cannot "
              "be changed; the row is unchanged and its owner still reads it")
    def _():
        dec = create(d, "ocmw", decision_body(new_ssin()))
        st["dec"] = dec
        did = dec["id"]
        before = env.psql(f"SELECT id, ocmw, ssin, kind, created_at, created_by, current_version "
                          f"FROM decision WHERE id = '{did}'")
        problems = [why for why in (
            denied(env, f"UPDATE decision SET ocmw = '{OCMW2_ORG}' WHERE id = '{did}'"),
            denied(env, f"UPDATE decision SET ssin = ssin WHERE id = '{did}'"),
            denied(env, f"UPDATE decision SET kind = 'principle' WHERE id = '{did}'"),
            denied(env, f"UPDATE decision SET id = 'D2026-99999999' WHERE id = '{did}'"),
            denied(env, f"UPDATE decision SET created_by = created_by WHERE id = '{did}'"),
            denied(env, f"UPDATE decision SET created_at = now() WHERE id = '{did}'"),
            denied(env, f"DELETE FROM decision WHERE id = '{did}'"),
            denied(env, "TRUNCATE decision CASCADE"),
            denied(env, "UPDATE cap_usage SET ssin = ssin"),
            denied(env, "UPDATE cap_usage SET month = month"),
            denied(env, "DELETE FROM cap_usage"),
            denied(env, "DELETE FROM idempotency_key"),
            denied(env, "UPDATE idempotency_key SET organisation = organisation"),
            denied(env, "UPDATE principal SET role = 'admin'"),
            denied(env, "INSERT INTO principal (cert_fingerprint, subject, role, organisation) "
                        f"VALUES (repeat('a', 64), 'x', 'admin', '{OCMW_ORG}')"),
            denied(env, "DELETE FROM tariff_import"),
            denied(env, "UPDATE tariff SET fee_cents = 0"),
        ) if why]
        expect(not problems, "\n".join(problems))
        after = env.psql(f"SELECT id, ocmw, ssin, kind, created_at, created_by, current_version "
                         f"FROM decision WHERE id = '{did}'")
        expect(after == before, f"the decision row changed: {before!r} -> {after!r}")
        r = d.request("ocmw", "GET", f"/v1/decisions/{did}")
        expect(r.status == 200 and r.json.get("ocmw") == OCMW_ORG, f"owner's read: {r!r}")
        r = d.request("ocmw2", "GET", f"/v1/decisions/{did}")
        expect(r.status == 404, f"the other OCMW's read: {r!r}")

    @tap.case("as medaid_app: what the daemon must change still can be (a new version "
              "through the API: current_version, status and period move)")
    def _():
        dec = st["dec"]
        r = act(d, "ocmw", dec["id"], "suspend")
        expect(r.status == 200 and r.json.get("status") == "suspended", f"suspend: {r!r}")
        got = env.psql(f"SELECT current_version, status FROM decision WHERE id = '{dec['id']}'")
        expect(got == "2|suspended", f"decision row after suspend: {got!r}")

    @tap.case("audit_missing and audit_missing_page run by index lookups whatever the "
              "statistics say (schema/013 and 010: enable_seqscan off)")
    def _():
        got = env.psql("SELECT proname || '=' || array_to_string(proconfig, ',') FROM pg_proc "
                       "WHERE proname IN ('audit_missing', 'audit_missing_page') ORDER BY 1")
        expect(got.split() == ["audit_missing=enable_seqscan=off",
                               "audit_missing_page=enable_seqscan=off"], repr(got))

    @tap.case("an overlap refusal is in PostgreSQL's log without the SSIN (terse errors)")
    def _():
        ssin = new_ssin()
        create(d, "ocmw", decision_body(ssin))
        r = d.request("ocmw2", "POST", "/v1/decisions", decision_body(ssin))
        expect(r.status == 409, f"overlap: expected 409, got {r!r}")
        log = (env.pgdata / "server.log").read_text(errors="replace")
        expect("decision_one_per_person_per_day" in log,
               "the refusal is not in the server log at all (the test would prove nothing)")
        expect(ssin not in log, "the SSIN is in PostgreSQL's server log")

    @tap.case("medaidd exits 0 on SIGTERM, no sanitizer report")
    def _():
        rc = d.stop()
        expect(rc == 0, f"exit status {rc}\n{d.tail()}")
        rep = d.sanitizer_report()
        expect(not rep, rep)
