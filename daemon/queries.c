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

/* $1 ocmw, $2 ssin, $3 kind, $4 principal id, $5 start, $6 end, $7 body */
const struct pg_stmt Q_DECISION_INSERT = {
    "decision_insert",
    "WITH d AS ("
    "  INSERT INTO decision (id, ocmw, ssin, kind, created_by)"
    "  VALUES ('D' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'"
    "          || lpad(nextval('decision_number_seq')::text, 8, '0'), $1, $2, $3, $4)"
    "  RETURNING id),"
    " v AS ("
    "  INSERT INTO decision_version"
    "   (decision_id, version, status, period_start, period_end, body, recorded_by)"
    "  SELECT d.id, 1, 'active', $5, $6, $7, $4 FROM d"
    "  RETURNING recorded_at)"
    " SELECT d.id, " TS_UTC("v.recorded_at") " FROM d, v",
    7};

/* $1 id, $2 version or NULL for the current one */
const struct pg_stmt Q_DECISION_GET = {
    "decision_get",
    "SELECT d.id, v.version, v.status, d.ocmw, v.body::text, " TS_UTC(
        "v.recorded_at") " FROM decision d JOIN decision_version v ON v.decision_id = d.id"
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

const struct pg_stmt *const queries_all[] = {&Q_PRINCIPAL_BY_FINGERPRINT,
                                             &Q_HEALTH,
                                             &Q_DECISION_INSERT,
                                             &Q_DECISION_GET,
                                             &Q_DECISIONS_OF_PERSON,
                                             &Q_AGREEMENT_INSERT,
                                             NULL};
