/*
 * queries: the registry's SQL. A write is one statement (data-modifying
 * CTEs), so it is one transaction and one round trip, and it is all or
 * nothing.
 */
#include "queries.h"

#define TS_UTC(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

const struct pg_stmt Q_PRINCIPAL_BY_FINGERPRINT = {
    "principal_by_fingerprint",
    "SELECT id, role, organisation, revoked_at IS NOT NULL"
    " FROM principal WHERE cert_fingerprint = $1",
    1};

const struct pg_stmt Q_HEALTH = {"health", "SELECT 1", 0};

/* $1 ocmw, $2 ssin, $3 kind, $4 principal id, $5 start, $6 end, $7 body,
 * $8 idempotency key or NULL, $9 request hash */
const struct pg_stmt Q_DECISION_INSERT = {
    "decision_insert",
    "WITH d AS ("
    "  INSERT INTO decision (id, ocmw, ssin, kind, created_by, status, period)"
    "  VALUES ('D' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'"
    "          || lpad(nextval('decision_number_seq')::text, 8, '0'), $1, $2, $3, $4,"
    "          'active', daterange($5::date, $6::date, '[]'))"
    "  RETURNING id),"
    " v AS ("
    "  INSERT INTO decision_version"
    "   (decision_id, version, status, period_start, period_end, body, recorded_by, change)"
    "  SELECT d.id, 1, 'active', $5, $6, $7, $4, 'create' FROM d"
    "  RETURNING decision_id, recorded_at),"
    " k AS ("
    "  INSERT INTO idempotency_key"
    "   (organisation, key, request_hash, decision_id, version, status_code)"
    "  SELECT $1, $8, $9, v.decision_id, 1, 201 FROM v WHERE $8::text IS NOT NULL)"
    " SELECT d.id, 1, " TS_UTC("v.recorded_at") " FROM d, v",
    9};

/* A new version. $1 id, $2 owning ocmw, $3 the version it replaces, $4 status,
 * $5 start, $6 end, $7 body, $8 principal id, $9 change, $10 idempotency key
 * or NULL, $11 request hash. No row: the version was not current any more. */
const struct pg_stmt Q_DECISION_NEW_VERSION = {
    "decision_new_version",
    "WITH u AS ("
    "  UPDATE decision SET current_version = current_version + 1, status = $4,"
    "         period = daterange($5::date, $6::date, '[]')"
    "  WHERE id = $1 AND ocmw = $2 AND current_version = $3::integer"
    "  RETURNING id, current_version),"
    " v AS ("
    "  INSERT INTO decision_version"
    "   (decision_id, version, status, period_start, period_end, body, recorded_by, change)"
    "  SELECT u.id, u.current_version, $4, $5, $6, $7, $8, $9 FROM u"
    "  RETURNING decision_id, version, recorded_at),"
    " k AS ("
    "  INSERT INTO idempotency_key"
    "   (organisation, key, request_hash, decision_id, version, status_code)"
    "  SELECT $2, $10, $11, v.decision_id, v.version, 200 FROM v WHERE $10::text IS NOT NULL)"
    " SELECT v.decision_id, v.version, " TS_UTC("v.recorded_at") " FROM v",
    11};

/* $1 organisation, $2 key */
const struct pg_stmt Q_IDEMPOTENCY_GET = {
    "idempotency_get",
    "SELECT request_hash, decision_id, version, status_code FROM idempotency_key"
    " WHERE organisation = $1 AND key = $2",
    2};

/* The decision a new or changed one collides with: $1 ssin, $2 kind, $3 start,
 * $4 end, $5 the decision's own id (or NULL) */
const struct pg_stmt Q_DECISION_CONFLICT = {
    "decision_conflict",
    "SELECT id, ocmw FROM decision"
    " WHERE ssin = $1 AND kind = $2 AND period && daterange($3::date, $4::date, '[]')"
    "   AND id IS DISTINCT FROM $5 ORDER BY id LIMIT 1",
    5};

/* $1 id: every version, with who recorded it */
const struct pg_stmt Q_DECISION_HISTORY = {
    "decision_history",
    "SELECT v.decision_id, v.version, v.status, d.ocmw, v.body::text, " TS_UTC(
        "v.recorded_at") ", v.change, p.id, p.role, p.organisation, coalesce(p.name, '')"
                         " FROM decision d JOIN decision_version v ON v.decision_id = d.id"
                         " JOIN principal p ON p.id = v.recorded_by"
                         " WHERE d.id = $1 ORDER BY v.version",
    1};

/* $1 id, $2 version or NULL for the current one; rows as h_decision_from_row
 * reads them, then the current version number */
const struct pg_stmt Q_DECISION_GET = {
    "decision_get",
    "SELECT d.id, v.version, v.status, d.ocmw, v.body::text, " TS_UTC(
        "v.recorded_at") ", d.current_version"
                         " FROM decision d JOIN decision_version v ON v.decision_id = d.id"
                         " WHERE d.id = $1 AND v.version = coalesce($2::integer, "
                         "d.current_version)",
    2};

/* $1 ssin: the current version of every decision of that person */
const struct pg_stmt Q_DECISIONS_OF_PERSON = {
    "decisions_of_person",
    "SELECT d.id, v.version, v.status, d.ocmw, v.body::text, " TS_UTC(
        "v.recorded_at") " FROM decision d JOIN decision_version v"
                         "   ON v.decision_id = d.id AND v.version = d.current_version"
                         " WHERE d.ssin = $1 ORDER BY d.id",
    1};

/* The decisions of a person as they stood for a service date: for each, the
 * last version recorded (in the business calendar) on or before that date,
 * or version 1 for dates before it was recorded -- no change is
 * retroactive. The death date is always the one the current version knows.
 * $1 ssin, $2 service date, $3 time zone */
const struct pg_stmt Q_COVERAGE_DECISIONS = {
    "coverage_decisions",
    "SELECT v.decision_id, v.version, v.status, d.ocmw, v.body::text, " TS_UTC(
        "v.recorded_at") ", cur.body->'beneficiary'->>'death_date'"
                         " FROM decision d"
                         " JOIN decision_version cur ON cur.decision_id = d.id AND cur.version = "
                         "d.current_version"
                         " JOIN LATERAL (SELECT * FROM decision_version x WHERE x.decision_id = "
                         "d.id"
                         "   AND (x.version = 1 OR (x.recorded_at AT TIME ZONE $3)::date <= "
                         "$2::date)"
                         "   ORDER BY x.version DESC LIMIT 1) v ON true"
                         " WHERE d.ssin = $1 ORDER BY d.id",
    3};

/* $1 provider id, $2 provider org, $3 ssin, $4 service date, $5 care type,
 * $6 covered, $7 reason, $8 decision id, $9 decision version, $10 question,
 * $11 answer without the agreement number (a JSON object) */
const struct pg_stmt Q_AGREEMENT_INSERT = {
    "agreement_insert",
    "WITH n AS (SELECT 'A' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'"
    "   || lpad(nextval('agreement_number_seq')::text, 8, '0') AS number)"
    " INSERT INTO agreement (number, provider_id, provider_org, ssin, service_date, care_type,"
    "   covered, reason, decision_id, decision_version, question, answer)"
    " SELECT n.number, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
    "   '{\"agreement\":\"' || n.number || '\",' || substr($11::text, 2) FROM n"
    " RETURNING answer",
    11};

const struct pg_stmt *const queries_all[] = {
    &Q_PRINCIPAL_BY_FINGERPRINT, &Q_HEALTH,           &Q_DECISION_INSERT,
    &Q_DECISION_NEW_VERSION,     &Q_IDEMPOTENCY_GET,  &Q_DECISION_CONFLICT,
    &Q_DECISION_HISTORY,         &Q_DECISION_GET,     &Q_DECISIONS_OF_PERSON,
    &Q_COVERAGE_DECISIONS,       &Q_AGREEMENT_INSERT, NULL};
