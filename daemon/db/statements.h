/*
 * statements: every SQL statement the daemon runs after start-up, as one
 * list: X(ID, name, number of parameters, read-only, SQL). db/queries.c makes
 * of it the table of prepared statements (Q_<ID>, queries_all); each store
 * of db/ runs its own. A write is one statement (data-modifying CTEs), so it
 * is one transaction and one round trip, all or nothing. Result columns are
 * named: the stores read them by name.
 *
 * Read-only statements are run again when their connection is lost.
 */
#ifndef MEDAID_DB_STATEMENTS_H
#define MEDAID_DB_STATEMENTS_H

/* Writes of one person's decisions are serialised by a transaction-scoped
 * advisory lock taken before the row is written: concurrent inserts that
 * collide in the GiST exclusion index would otherwise deadlock each other
 * (and retry into the statement timeout); behind the lock the second
 * writer simply sees the first one's committed row and gets 23P01. */
#define SQL_PERSON_LOCK(ssin) "pg_advisory_xact_lock(1836, hashtext(" ssin "))"

#define SQL_TS_UTC(x)    "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define SQL_TS_US(x)     "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
#define SQL_TS_UTC_US(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* The agreement number is given by the database (AGREEMENT_NUMBERS); the
 * answer is stored with it and its signature, exactly as it is sent. */
#define SQL_AGREEMENT_NUMBER                                                                       \
    "'A' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'"                                      \
    " || lpad(nextval('agreement_number_seq')::text, 8, '0')"

/* clang-format off */
#define DB_STATEMENTS(X)                                                                           \
                                                                                                   \
/* $1 certificate fingerprint */                                                                   \
X(PRINCIPAL_BY_FINGERPRINT, "principal_by_fingerprint", 1, true,                                   \
  "SELECT id, role, organisation, coalesce(kind, '') AS kind,"                                     \
  " revoked_at IS NOT NULL AS revoked"                                                             \
  " FROM principal WHERE cert_fingerprint = $1")                                                   \
                                                                                                   \
X(HEALTH, "health", 0, true, "SELECT 1")                                                           \
                                                                                                   \
/* $1 ocmw, $2 ssin, $3 kind, $4 principal id, $5 start, $6 end, $7 body,                          \
 * $8 idempotency key or NULL, $9 request hash */                                                  \
X(DECISION_INSERT, "decision_insert", 9, false,                                                    \
  "WITH d AS ("                                                                                    \
  "  INSERT INTO decision (id, ocmw, ssin, kind, created_by, status, period)"                      \
  "  SELECT 'D' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'"                               \
  "          || lpad(nextval('decision_number_seq')::text, 8, '0'), $1, $2, $3, $4,"               \
  "          'active', daterange($5::date, $6::date, '[]')"                                        \
  "  FROM (SELECT " SQL_PERSON_LOCK("$2") ") l"                                                    \
  "  RETURNING id),"                                                                               \
  " v AS ("                                                                                        \
  "  INSERT INTO decision_version"                                                                 \
  "   (decision_id, version, status, period_start, period_end, body, recorded_by, change)"         \
  "  SELECT d.id, 1, 'active', $5, $6, $7, $4, 'create' FROM d"                                    \
  "  RETURNING decision_id, recorded_at),"                                                         \
  " k AS ("                                                                                        \
  "  INSERT INTO idempotency_key"                                                                  \
  "   (organisation, key, request_hash, decision_id, version, status_code)"                        \
  "  SELECT $1, $8, $9, v.decision_id, 1, 201 FROM v WHERE $8::text IS NOT NULL)"                  \
  " SELECT d.id, 1 AS version, " SQL_TS_UTC("v.recorded_at") " AS recorded_at FROM d, v")          \
                                                                                                   \
/* A new version. $1 id, $2 owning ocmw, $3 the version it replaces, $4 status,                    \
 * $5 start, $6 end, $7 body, $8 principal id, $9 change, $10 idempotency key                      \
 * or NULL, $11 request hash. No row: the version was not current any more. */                     \
X(DECISION_NEW_VERSION, "decision_new_version", 11, false,                                         \
  "WITH u AS ("                                                                                    \
  "  UPDATE decision SET current_version = current_version + 1, status = $4,"                      \
  "         period = daterange($5::date, $6::date, '[]')"                                          \
  "  FROM (SELECT " SQL_PERSON_LOCK("(SELECT ssin FROM decision WHERE id = $1)") ") l"             \
  "  WHERE id = $1 AND ocmw = $2 AND current_version = $3::integer"                                \
  "  RETURNING id, current_version),"                                                              \
  " v AS ("                                                                                        \
  "  INSERT INTO decision_version"                                                                 \
  "   (decision_id, version, status, period_start, period_end, body, recorded_by, change)"         \
  "  SELECT u.id, u.current_version, $4, $5, $6, $7, $8, $9 FROM u"                                \
  "  RETURNING decision_id, version, recorded_at),"                                                \
  " k AS ("                                                                                        \
  "  INSERT INTO idempotency_key"                                                                  \
  "   (organisation, key, request_hash, decision_id, version, status_code)"                        \
  "  SELECT $2, $10, $11, v.decision_id, v.version, 200 FROM v WHERE $10::text IS NOT NULL)"       \
  " SELECT v.decision_id AS id, v.version, " SQL_TS_UTC("v.recorded_at") " AS recorded_at"         \
  " FROM v")                                                                                       \
                                                                                                   \
/* $1 organisation, $2 key */                                                                      \
X(IDEMPOTENCY_GET, "idempotency_get", 2, true,                                                     \
  "SELECT request_hash, decision_id, version, status_code FROM idempotency_key"                    \
  " WHERE organisation = $1 AND key = $2")                                                         \
                                                                                                   \
/* The decision a new or changed one collides with: $1 ssin, $2 kind, $3 start,                    \
 * $4 end, $5 the decision's own id (or NULL) */                                                   \
X(DECISION_CONFLICT, "decision_conflict", 5, true,                                                 \
  "SELECT id, ocmw FROM decision"                                                                  \
  " WHERE ssin = $1 AND kind = $2 AND period && daterange($3::date, $4::date, '[]')"               \
  "   AND id IS DISTINCT FROM $5 ORDER BY id LIMIT 1")                                             \
                                                                                                   \
/* $1 id: every version, with who recorded it */                                                   \
X(DECISION_HISTORY, "decision_history", 1, true,                                                   \
  "SELECT v.decision_id AS id, v.version, v.status, d.ocmw, v.body::text AS body, "                \
  SQL_TS_UTC("v.recorded_at") " AS recorded_at, v.change, p.id AS principal, p.role,"              \
  " p.organisation, coalesce(p.name, '') AS name"                                                  \
  " FROM decision d JOIN decision_version v ON v.decision_id = d.id"                               \
  " JOIN principal p ON p.id = v.recorded_by"                                                      \
  " WHERE d.id = $1 ORDER BY v.version")                                                           \
                                                                                                   \
/* $1 id, $2 version or NULL for the current one; with the current version */                      \
X(DECISION_GET, "decision_get", 2, true,                                                           \
  "SELECT d.id, v.version, v.status, d.ocmw, v.body::text AS body, "                               \
  SQL_TS_UTC("v.recorded_at") " AS recorded_at, d.current_version"                                 \
  " FROM decision d JOIN decision_version v ON v.decision_id = d.id"                               \
  " WHERE d.id = $1 AND v.version = coalesce($2::integer, d.current_version)")                     \
                                                                                                   \
/* $1 ssin: the current version of every decision of that person */                                \
X(DECISIONS_OF_PERSON, "decisions_of_person", 1, true,                                             \
  "SELECT d.id, v.version, v.status, d.ocmw, v.body::text AS body, "                               \
  SQL_TS_UTC("v.recorded_at") " AS recorded_at FROM decision d JOIN decision_version v"            \
  "   ON v.decision_id = d.id AND v.version = d.current_version"                                   \
  " WHERE d.ssin = $1 ORDER BY d.id")                                                              \
                                                                                                   \
/* Everything one coverage answer needs, in one round trip, read under the                         \
 * person's lock (schema/005: coverage_lookup). $1 ssin, $2 service date,                          \
 * $3 time zone, $4 care type, $5 codes (text[]) */                                                \
X(COVERAGE_LOOKUP, "coverage_lookup", 5, true,                                                     \
  "SELECT * FROM coverage_lookup($1, $2::date, $3, $4, $5::text[])")                               \
                                                                                                   \
/* Group commit: the agreements of one loop turn in one statement, one                             \
 * transaction, capped ones included (schema/014: agreement_record_many).                          \
 * Arrays, one element per agreement: $1 provider ids, $2 orgs, $3 ssins,                          \
 * $4 service dates, $5 care types, $6 covered, $7 reasons, $8 decision ids,                       \
 * $9 decision versions, $10 questions, $11 answers as sent (numbered and                          \
 * signed: AGREEMENT_NUMBERS), $12 the moments their data was read (NULL                           \
 * when none was), $13 numbers; for an answer under a monthly patient-share                        \
 * cap (NULL otherwise): $14 what it grants, $15 the cap, $16 the month's                          \
 * usage it says was there before it. A capped one is recorded only if that                        \
 * is still the usage at its turn and it still fits. Rows, by ordinal: (ord,                       \
 * answer as sent or NULL when not recorded, the month's usage after the                           \
 * statement for a capped one). */                                                                 \
X(AGREEMENT_INSERT_MANY, "agreement_insert_many", 16, false,                                       \
  "SELECT ord, answer, used_now FROM agreement_record_many($1::bigint[], $2::text[],"              \
  " $3::text[], $4::date[], $5::text[], $6::boolean[], $7::text[], $8::text[], $9::integer[],"     \
  " $10::jsonb[], $11::text[], $12::timestamptz[], $13::text[], $14::bigint[], $15::bigint[],"     \
  " $16::bigint[])")                                                                               \
                                                                                                   \
/* $1 number: the answer as it was sent, who it was issued to, and when it                         \
 * was voided (NULL) */                                                                            \
X(AGREEMENT_GET, "agreement_get", 1, true,                                                         \
  "SELECT a.answer, a.provider_org, a.ssin, " SQL_TS_UTC("v.voided_at") " AS voided_at"            \
  " FROM agreement a LEFT JOIN agreement_void v ON v.number = a.number"                            \
  " WHERE a.number = $1")                                                                          \
                                                                                                   \
/* $1 number, $2 issuing provider's organisation, $3 principal id. Gives                           \
 * the cap back to the month. No row: not that provider's agreement; billed:                       \
 * it has an accepted invoice line and stays (schema/008 checks it again                           \
 * under the agreement's lock: SQLSTATE MDB01). */                                                 \
X(AGREEMENT_VOID, "agreement_void", 3, false,                                                      \
  "WITH a AS (SELECT number, ssin, care_type, service_date, cap_cents,"                            \
  "  EXISTS (SELECT 1 FROM invoice_line l WHERE l.agreement = agreement.number"                    \
  "          AND l.accepted) AS billed FROM agreement"                                             \
  "  WHERE number = $1 AND provider_org = $2),"                                                    \
  " v AS (INSERT INTO agreement_void (number, voided_by) SELECT number, $3 FROM a"                 \
  "  WHERE NOT a.billed RETURNING number, voided_at),"                                             \
  " u AS (UPDATE cap_usage c SET used_cents = c.used_cents - a.cap_cents FROM a, v"                \
  "  WHERE a.cap_cents > 0 AND c.ssin = a.ssin AND c.care_type = a.care_type"                      \
  "    AND c.month = date_trunc('month', a.service_date)::date)"                                   \
  " SELECT a.billed, v.number, " SQL_TS_UTC("v.voided_at") " AS voided_at"                         \
  " FROM a LEFT JOIN v ON true")                                                                   \
                                                                                                   \
/* A new version of the tariff table (all or nothing; earlier versions are    \
 * kept: schema/009). Arrays: $1 codes, $2 starts, $3 ends, $4 fees,           \
 * $5 patient shares, $6 care types joined by '|'; $7 principal id, $8 line    \
 * count, $9 sha256 of the import. The version is the import's number. */      \
X(TARIFF_IMPORT, "tariff_import", 9, false,                                                        \
  "WITH imp AS (INSERT INTO tariff_import (imported_by, lines, sha256) VALUES ($7, $8, $9)"        \
  "  RETURNING id, in_force_at),"                                                                  \
  " ins AS ("                                                                                      \
  "  INSERT INTO tariff (code, period, fee_cents, patient_share_cents, care_types,"                \
  "    imported_by, import_id)"                                                                    \
  "  SELECT c, daterange(s, e, '[]'), f, p, string_to_array(ct, '|'), $7, imp.id"                  \
  "  FROM imp, unnest($1::text[], $2::date[], $3::date[], $4::bigint[], $5::bigint[],"             \
  "              $6::text[]) AS u(c, s, e, f, p, ct)"                                              \
  "  RETURNING 1)"                                                                                 \
  " SELECT (SELECT count(*) FROM ins) AS imported, imp.id AS version, "                            \
  SQL_TS_UTC_US("imp.in_force_at") " AS in_force_at FROM imp")                                     \
                                                                                                   \
/* $1 code, $2 date or NULL, $3 moment or NULL (the newest version): the                           \
 * lines of the version in force then as CSV (code,start,end,fee,share,types),                     \
 * each with that version and when it came in force */                                             \
X(TARIFF_GET, "tariff_get", 3, true,                                                               \
  "SELECT t.code || ',' || lower(t.period) || ',' || (upper(t.period) - 1) || ',' || t.fee_cents"  \
  "  || ',' || t.patient_share_cents || ',' || array_to_string(t.care_types, '|') AS line,"         \
  " i.id AS version, " SQL_TS_UTC_US("i.in_force_at") " AS in_force_at"                            \
  " FROM tariff_import i JOIN tariff t ON t.import_id = i.id"                                      \
  " WHERE i.id = tariff_version_at($3::timestamptz) AND t.code = $1"                               \
  "   AND ($2::date IS NULL OR t.period @> $2::date)"                                              \
  " ORDER BY lower(t.period)")                                                                     \
                                                                                                   \
/* the end of every chain, in chain order */                                                       \
X(AUDIT_HEAD, "audit_head", 0, true,                                                               \
  "SELECT chain, last_chain_seq, last_seq, last_hash FROM audit_head ORDER BY chain")              \
                                                                                                   \
/* The records chain by chain, after ($1 chain, $2 chain_seq), at most $3,                         \
 * each with the canonical text its hash covers */                                                 \
X(AUDIT_PAGE, "audit_page", 3, true,                                                               \
  "SELECT seq, chain, chain_seq, audit_canonical(seq, chain, chain_seq, recorded_at,"              \
  " principal_id, organisation, action, object, detail) AS canonical, prev_hash, hash"             \
  " FROM audit_log"                                                                                \
  " WHERE (chain, chain_seq) > ($1::smallint, $2::bigint) ORDER BY chain, chain_seq LIMIT $3")     \
                                                                                                   \
/* Consultations (agreements), filtered, in number order after a cursor.                           \
 * $1 ssin, $2 provider, $3 ocmw, $4 service from, $5 service to (inclusive),                      \
 * $6 recorded from, $7 recorded to (exclusive), $8 outcome (covered,                              \
 * not_covered or a reason code), $9 after this number, $10 limit.                                 \
 * Coverage answers (kind "coverage", by agreement number) and card
 * consultations (kind "card", by consultation number; a period overlapping
 * the service dates, an OCMW among those shown, a reason among those
 * given), in number order. Rows: (number, item as JSON text). Each branch                         \
 * is ordered and limited itself, so that it reads its primary key in order                        \
 * (a UNION ALL of joins is otherwise sorted whole: tests_plans.py). */                            \
X(AUDIT_CONSULTATIONS, "audit_consultations", 10, true,                                            \
  "SELECT number, item FROM (("                                                                    \
  " SELECT a.number, row_to_json(i)::text AS item"                                                 \
  " FROM agreement a LEFT JOIN decision d ON d.id = a.decision_id"                                 \
  " LEFT JOIN agreement_void v ON v.number = a.number"                                             \
  " CROSS JOIN LATERAL (SELECT a.number AS agreement, "                                            \
  SQL_TS_UTC_US("a.issued_at") " AS issued_at, " SQL_TS_UTC_US("a.known_at") " AS known_at,"       \
  "   a.provider_org AS provider, a.ssin, a.service_date, a.care_type, a.covered, a.reason,"       \
  "   a.decision_id AS decision, a.decision_version, d.ocmw, " SQL_TS_UTC("v.voided_at")           \
  "   AS voided_at, 'coverage' AS kind) i"                                                         \
  " WHERE ($1::text IS NULL OR a.ssin = $1) AND ($2::text IS NULL OR a.provider_org = $2)"         \
  "   AND ($3::text IS NULL OR d.ocmw = $3)"                                                       \
  "   AND ($4::date IS NULL OR a.service_date >= $4::date)"                                        \
  "   AND ($5::date IS NULL OR a.service_date <= $5::date)"                                        \
  "   AND ($6::timestamptz IS NULL OR a.issued_at >= $6::timestamptz)"                             \
  "   AND ($7::timestamptz IS NULL OR a.issued_at < $7::timestamptz)"                              \
  "   AND ($8::text IS NULL OR ($8 = 'covered' AND a.covered)"                                     \
  "        OR ($8 = 'not_covered' AND NOT a.covered) OR a.reason = $8)"                            \
  "   AND ($9::text IS NULL OR a.number > $9)"                                                     \
  " ORDER BY a.number LIMIT $10)"                                                                  \
  " UNION ALL ("                                                                                   \
  " SELECT c.number, row_to_json(j)::text"                                                         \
  " FROM card_consultation c"                                                                      \
  " CROSS JOIN LATERAL (SELECT c.number AS consultation, "                                         \
  SQL_TS_UTC_US("c.issued_at") " AS issued_at, c.provider_org AS provider, c.ssin,"                \
  "   c.date_from AS \"from\", c.date_to AS \"to\", c.covered, c.reasons, c.ocmws,"                \
  "   'card' AS kind) j"                                                                           \
  " WHERE ($1::text IS NULL OR c.ssin = $1) AND ($2::text IS NULL OR c.provider_org = $2)"         \
  "   AND ($3::text IS NULL OR c.ocmws @> ARRAY[$3::text])"                                        \
  "   AND ($4::date IS NULL OR c.date_to >= $4::date)"                                             \
  "   AND ($5::date IS NULL OR c.date_from <= $5::date)"                                           \
  "   AND ($6::timestamptz IS NULL OR c.issued_at >= $6::timestamptz)"                             \
  "   AND ($7::timestamptz IS NULL OR c.issued_at < $7::timestamptz)"                              \
  "   AND ($8::text IS NULL OR ($8 = 'covered' AND c.covered)"                                     \
  "        OR ($8 = 'not_covered' AND NOT c.covered) OR $8 = ANY (c.reasons))"                     \
  "   AND ($9::text IS NULL OR c.number > $9)"                                                     \
  " ORDER BY c.number LIMIT $10)"                                                                  \
  ") u ORDER BY number LIMIT $10")                                                                 \
                                                                                                   \
/* Decision versions, filtered, in recording order after a cursor.                                 \
 * $1 ocmw, $2 ssin, $3 changed since, $4 status, cursor: $5 recorded_at                           \
 * (UTC, microseconds), $6 decision id, $7 version; $8 limit.                                      \
 * Rows: (cursor recorded_at, decision id, version, item as JSON text). */                         \
X(AUDIT_DECISIONS, "audit_decisions", 8, true,                                                     \
  "SELECT " SQL_TS_US("v.recorded_at") " AS cursor_at, v.decision_id, v.version,"                  \
  " row_to_json(i)::text AS item"                                                                  \
  " FROM decision_version v JOIN decision d ON d.id = v.decision_id"                               \
  " JOIN principal p ON p.id = v.recorded_by"                                                      \
  " CROSS JOIN LATERAL (SELECT v.decision_id AS decision, v.version, v.change, v.status,"          \
  "   d.ocmw, d.ssin, d.kind,"                                                                     \
  "   (SELECT row_to_json(pp) FROM (SELECT v.period_start AS start, v.period_end AS \"end\")"      \
  "    pp) AS period,"                                                                             \
  "   " SQL_TS_UTC("v.recorded_at") " AS recorded_at,"                                             \
  "   (SELECT row_to_json(rb) FROM (SELECT p.id AS principal, p.role, p.organisation) rb)"         \
  "   AS recorded_by) i"                                                                           \
  " WHERE ($1::text IS NULL OR d.ocmw = $1) AND ($2::text IS NULL OR d.ssin = $2)"                 \
  "   AND ($3::timestamptz IS NULL OR v.recorded_at >= $3::timestamptz)"                           \
  "   AND ($4::text IS NULL OR v.status = $4)"                                                     \
  "   AND ($5::timestamp IS NULL OR (v.recorded_at, v.decision_id, v.version) >"                   \
  "        ($5::timestamp AT TIME ZONE 'UTC', $6::text, $7::integer))"                             \
  " ORDER BY v.recorded_at, v.decision_id, v.version LIMIT $8")                                    \
                                                                                                   \
/* What the registry knew at $6 about a person, for a service date                                 \
 * (schema/009: coverage_as_of, the same reading of the versions as                                \
 * coverage_lookup, the tariff version and the month's cap use at $6),                             \
 * and the kinds provider $7 had then (schema/010: provider_kinds_at;                              \
 * NULL when $7 is NULL). $1 ssin, $2 service date, $3 time zone,                                  \
 * $4 care type, $5 codes (text[]), $6 known at, $7 provider or NULL. */                           \
X(AUDIT_AS_OF, "coverage_as_of", 7, true,                                                          \
  "SELECT c.*, array_to_string(provider_kinds_at($7, $6::timestamptz), ',') AS provider_kinds"     \
  " FROM coverage_as_of($1, $2::date, $3, $4, $5::text[], $6::timestamptz) c")                     \
                                                                                                   \
/* The reads of one loop turn (schema/006: audit_append_reads, read.*                              \
 * records only). Arrays: $1 principal ids, $2 actions, $3 objects, $4 details */                  \
X(AUDIT_READS_APPEND, "audit_reads_append", 4, false,                                              \
  "SELECT audit_append_reads($1::bigint[], $2::text[], $3::text[], $4::text[]) AS n")              \
                                                                                                   \
/* Who read a person's data ($1 SSIN): read records and coverage answers,                          \
 * in seq order after $2 (or from the start), at most $3. */                                       \
X(AUDIT_READS_LIST, "audit_reads_list", 3, true,                                                   \
  "SELECT l.seq, row_to_json(i)::text AS item"                                                     \
  " FROM audit_log l LEFT JOIN principal p ON p.id = l.principal_id"                               \
  " CROSS JOIN LATERAL (SELECT l.seq, " SQL_TS_UTC_US("l.recorded_at") " AS recorded_at,"          \
  "   l.principal_id AS principal, p.role, p.name, l.organisation, l.action, l.object) i"          \
  " WHERE audit_person(l.action, l.detail) = $1"                                                   \
  "   AND (l.action LIKE 'read.%' OR l.action = 'agreement.issue')"                                \
  "   AND ($2::bigint IS NULL OR l.seq > $2::bigint)"                                              \
  " ORDER BY l.seq LIMIT $3")                                                                      \
                                                                                                   \
/* The heads a checkpoint signs, with the moment they were read */                                 \
X(AUDIT_CHECKPOINT_HEADS, "audit_checkpoint_heads", 0, true,                                       \
  "SELECT chain, last_chain_seq, last_seq, last_hash, " SQL_TS_UTC_US("clock_timestamp()")         \
  " AS at FROM audit_head ORDER BY chain")                                                         \
                                                                                                   \
/* $1 interval in seconds (NULL: on demand, no slot), $2 key id, $3 signed                         \
 * text, $4 signature, $5 answer. No row: this interval has its checkpoint. */                     \
X(AUDIT_CHECKPOINT_INSERT, "audit_checkpoint_insert", 5, false,                                    \
  "INSERT INTO audit_checkpoint (slot, key_id, signed, signature, answer)"                         \
  " VALUES (CASE WHEN $1::bigint IS NULL THEN NULL"                                                \
  "  ELSE floor(extract(epoch FROM now()) / $1::bigint)::bigint END, $2, $3, $4, $5)"              \
  " ON CONFLICT (slot) DO NOTHING RETURNING id")                                                   \
                                                                                                   \
/* the latest checkpoint */                                                                        \
X(AUDIT_CHECKPOINT_LATEST, "audit_checkpoint_latest", 0, true,                                     \
  "SELECT id, answer FROM audit_checkpoint ORDER BY id DESC LIMIT 1")                              \
                                                                                                   \
/* Invoices (schema/008). The facts of the agreements quoted: $1 provider's                         \
 * organisation, $2 numbers (text[]). One row per agreement of that provider                       \
 * and agreed item (code NULL when none), with the quantity accepted of it. */                     \
X(INVOICE_FACTS, "invoice_facts", 2, true,                                                         \
  "SELECT a.number, a.covered, a.service_date::text AS service_date,"                              \
  " EXISTS (SELECT 1 FROM agreement_void v WHERE v.number = a.number) AS voided,"                  \
  " i.code, i.quantity, i.state_cents, i.ocmw_cents,"                                              \
  " (SELECT coalesce(sum(l.quantity), 0) FROM invoice_line l WHERE l.agreement = a.number"         \
  "   AND l.code = i.code AND l.accepted) AS billed"                                               \
  " FROM agreement a LEFT JOIN LATERAL agreement_items(a.number) i ON true"                        \
  " WHERE a.number = ANY ($2::text[]) AND a.provider_org = $1 ORDER BY a.number, i.code")          \
                                                                                                   \
/* One invoice with all its lines (schema/008: invoice_record). $1 provider                        \
 * id, $2 organisation, $3 idempotency key or NULL, $4 request hash, $5                            \
 * invoice date, $6 reference, $7 answer without the number, $8 status,                            \
 * $9 lines (jsonb), $10 the facts the check saw (jsonb). Row: (id, answer). */                    \
X(INVOICE_RECORD, "invoice_record", 10, false,                                                     \
  "SELECT * FROM invoice_record($1::bigint, $2, $3, $4, $5::date, $6, $7, $8, $9::jsonb,"          \
  " $10::jsonb)")                                                                                  \
                                                                                                   \
/* $1 organisation, $2 idempotency key */                                                          \
X(INVOICE_BY_KEY, "invoice_by_key", 2, true,                                                       \
  "SELECT id, request_hash, answer FROM invoice WHERE provider_org = $1 AND idem_key = $2")        \
                                                                                                   \
/* $1 id: the answer as it was sent, with what was paid of it */                                   \
X(INVOICE_GET, "invoice_get", 1, true,                                                             \
  "SELECT i.provider_org, substr(i.answer, 1, length(i.answer) - 1) || ',\"paid_cents\":'"         \
  " || coalesce((SELECT sum(p.amount_cents) FROM payment p WHERE p.invoice_id = i.id), 0)"         \
  " || ',\"payments\":' || coalesce((SELECT json_agg(json_build_object('payment', p.id,"           \
  "   'amount_cents', p.amount_cents, 'date', p.paid_on, 'reference', p.reference,"                \
  "   'recorded_at', " SQL_TS_UTC("p.recorded_at") ") ORDER BY p.id) FROM payment p"               \
  "   WHERE p.invoice_id = i.id)::text, '[]') || '}' AS doc"                                       \
  " FROM invoice i WHERE i.id = $1")                                                               \
                                                                                                   \
/* Invoices, filtered, in number order after a cursor. $1 provider, $2 ocmw                        \
 * (a line for it), $3 month (its first day), $4 status, $5 after this id,                         \
 * $6 limit. Rows: (id, item as JSON text, the same as a CSV line). */                             \
X(INVOICE_LIST, "invoice_list", 6, true,                                                           \
  "SELECT i.id, row_to_json(x)::text AS item, concat_ws(',', x.invoice, x.provider,"               \
  "   x.invoice_date, '\"' || replace(coalesce(x.reference, ''), '\"', '\"\"') || '\"',"           \
  "   x.status, x.lines, x.accepted_lines, x.state_cents, x.ocmw_cents, x.paid_cents,"             \
  "   x.submitted_at) AS csv"                                                                      \
  " FROM invoice i CROSS JOIN LATERAL (SELECT i.id AS invoice, i.provider_org AS provider,"        \
  "   i.invoice_date, i.reference, i.status,"                                                      \
  "   (SELECT count(*) FROM invoice_line l WHERE l.invoice_id = i.id) AS lines,"                   \
  "   (SELECT count(*) FROM invoice_line l WHERE l.invoice_id = i.id AND l.accepted)"              \
  "   AS accepted_lines, i.state_cents, i.ocmw_cents,"                                             \
  "   coalesce((SELECT sum(p.amount_cents) FROM payment p WHERE p.invoice_id = i.id), 0)"          \
  "   AS paid_cents, " SQL_TS_UTC("i.submitted_at") " AS submitted_at,"                            \
  "   coalesce((SELECT json_agg(json_build_object('line', l.line_no, 'agreement', l.agreement,"    \
  "     'code', l.code, 'reason', l.reason) ORDER BY l.line_no) FROM invoice_line l"               \
  "     WHERE l.invoice_id = i.id AND NOT l.accepted), '[]') AS rejections) x"                     \
  " WHERE ($1::text IS NULL OR i.provider_org = $1)"                                               \
  "   AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM invoice_line l"                               \
  "        WHERE l.invoice_id = i.id AND l.ocmw = $2))"                                            \
  "   AND ($3::date IS NULL OR (i.invoice_date >= $3::date"                                        \
  "        AND i.invoice_date < ($3::date + interval '1 month')))"                                 \
  "   AND ($4::text IS NULL OR i.status = $4)"                                                     \
  "   AND ($5::text IS NULL OR i.id > $5)"                                                         \
  " ORDER BY i.id LIMIT $6")                                                                       \
                                                                                                   \
/* A payment (schema/008: never over the state share, MDP01). $1 invoice,                          \
 * $2 amount, $3 date, $4 reference, $5 principal id. No row: no such invoice. */                  \
X(PAYMENT_INSERT, "payment_insert", 5, false,                                                      \
  "INSERT INTO payment (invoice_id, amount_cents, paid_on, reference, recorded_by)"                \
  " SELECT i.id, $2::bigint, $3::date, $4, $5::bigint FROM invoice i WHERE i.id = $1"              \
  " RETURNING json_build_object('payment', id, 'invoice', invoice_id, 'amount_cents',"             \
  "   amount_cents, 'date', paid_on, 'reference', reference, 'recorded_at', "                      \
  SQL_TS_UTC("recorded_at") ")::text AS doc")                                                      \
                                                                                                   \
/* The fund's statement of a month ($1 its first day): per provider the                            \
 * state shares accepted on that month's invoices and what was paid of                             \
 * them; per OCMW its shares. One row, a JSON document. */                                         \
X(STATEMENT_FUND, "statement_fund", 1, true,                                                       \
  "WITH l AS (SELECT i.provider_org, l.ocmw, l.state_cents, l.ocmw_cents FROM invoice i"           \
  "   JOIN invoice_line l ON l.invoice_id = i.id AND l.accepted"                                   \
  "   WHERE i.invoice_date >= $1::date AND i.invoice_date < ($1::date + interval '1 month')),"     \
  " inv AS (SELECT i.id, i.provider_org, i.state_cents,"                                           \
  "   coalesce((SELECT sum(p.amount_cents) FROM payment p WHERE p.invoice_id = i.id), 0) AS paid"  \
  "   FROM invoice i WHERE i.invoice_date >= $1::date"                                             \
  "   AND i.invoice_date < ($1::date + interval '1 month')),"                                      \
  " pr AS (SELECT inv.provider_org AS provider, count(*) AS invoices,"                             \
  "   (SELECT count(*) FROM l WHERE l.provider_org = inv.provider_org) AS accepted_lines,"         \
  "   sum(inv.state_cents) AS state_cents, sum(inv.paid) AS paid_cents,"                           \
  "   sum(inv.state_cents) - sum(inv.paid) AS open_cents"                                          \
  "   FROM inv GROUP BY inv.provider_org),"                                                        \
  " oc AS (SELECT l.ocmw, count(*) AS accepted_lines, sum(l.ocmw_cents) AS ocmw_cents"             \
  "   FROM l GROUP BY l.ocmw)"                                                                     \
  " SELECT json_build_object('month', to_char($1::date, 'YYYY-MM'),"                               \
  "   'providers', coalesce((SELECT json_agg(pr ORDER BY pr.provider) FROM pr), '[]'),"            \
  "   'ocmws', coalesce((SELECT json_agg(oc ORDER BY oc.ocmw) FROM oc), '[]'),"                    \
  "   'totals', json_build_object("                                                                \
  "     'state_cents', (SELECT coalesce(sum(state_cents), 0) FROM l),"                             \
  "     'paid_cents', (SELECT coalesce(sum(paid), 0) FROM inv),"                                   \
  "     'ocmw_cents', (SELECT coalesce(sum(ocmw_cents), 0) FROM l)))::text AS doc")                \
                                                                                                   \
/* An OCMW's statement of a month ($1 its first day, $2 the OCMW): every                           \
 * accepted line it owes, and their sum. One row, a JSON document. */                              \
X(STATEMENT_OCMW, "statement_ocmw", 2, true,                                                       \
  "WITH l AS (SELECT l.invoice_id AS invoice, l.line_no AS line, i.provider_org AS provider,"      \
  "   l.agreement, l.ssin, l.service_date, l.code, l.quantity, l.ocmw_cents FROM invoice i"        \
  "   JOIN invoice_line l ON l.invoice_id = i.id AND l.accepted AND l.ocmw = $2"                   \
  "   WHERE i.invoice_date >= $1::date AND i.invoice_date < ($1::date + interval '1 month'))"      \
  " SELECT json_build_object('month', to_char($1::date, 'YYYY-MM'), 'ocmw', $2::text,"             \
  "   'lines', coalesce((SELECT json_agg(l ORDER BY l.invoice, l.line) FROM l), '[]'),"            \
  "   'totals', json_build_object('lines', (SELECT count(*) FROM l),"                              \
  "     'ocmw_cents', (SELECT coalesce(sum(ocmw_cents), 0) FROM l)))::text AS doc")                \
                                                                                                   \
/* The card (schema/007: card_lookup): the person's decisions as they stood                        \
 * on each day of [$2, $3], read under the person's lock; $1 ssin, $4 time                         \
 * zone. Rows ordered by day, then decision. */                                                    \
X(CARD_LOOKUP, "card_lookup", 4, true,                                                             \
  "SELECT * FROM card_lookup($1, $2::date, $3::date, $4)")                                         \
                                                                                                   \
/* A card consultation, with its number, before the card is sent. $1 provider                      \
 * id, $2 its organisation, $3 ssin, $4 from, $5 to, $6 covered, $7 reasons                        \
 * (text[]), $8 OCMWs (text[]), $9 the card without its number. */                                 \
X(CARD_INSERT, "card_insert", 9, false,                                                            \
  "WITH n AS (SELECT 'C' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'"                      \
  " || lpad(nextval('card_number_seq')::text, 8, '0') AS number)"                                  \
  " INSERT INTO card_consultation (number, provider_id, provider_org, ssin, date_from,"            \
  "   date_to, covered, reasons, ocmws, answer)"                                                   \
  " SELECT n.number, $1, $2, $3, $4::date, $5::date, $6::boolean, $7::text[], $8::text[],"         \
  "   '{\"consultation\":\"' || n.number || '\",' || substr($9::text, 2) FROM n"                   \
  " RETURNING answer")                                                                             \
                                                                                                   \
/* $1 numbers for agreements about to be recorded; the key that will sign                          \
 * them ($2 key id, $3 raw public key in base64; NULL: none) is recorded                           \
 * first (schema/011), so it is known before any agreement it signed. */                           \
X(AGREEMENT_NUMBERS, "agreement_numbers", 3, false,                                                \
  "WITH k AS (INSERT INTO agreement_key (key_id, public_key)"                                      \
  "  SELECT $2::text, $3::text WHERE $2::text IS NOT NULL ON CONFLICT DO NOTHING)"                 \
  " SELECT " SQL_AGREEMENT_NUMBER " AS number FROM generate_series(1, $1::integer)")               \
                                                                                                   \
/* The keys that signed agreements (schema/011), oldest first; a key is valid                      \
 * until the next one's first use. */                                                              \
X(AGREEMENT_KEYS, "agreement_keys", 0, true,                                                       \
  "SELECT key_id, public_key, " SQL_TS_UTC("first_used") " AS valid_from,"                         \
  "  " SQL_TS_UTC("lead(first_used) OVER (ORDER BY first_used, key_id)") " AS valid_until"        \
  " FROM agreement_key ORDER BY first_used, key_id")                                                \
                                                                                                   \
/* One page of audit_missing (schema/010: audit_missing_page): $1 kind                             \
 * ('decision_version' or 'agreement'), $2 after this key (NULL: from the                          \
 * start), $3 how many decisions or agreements. Rows: the missing ones, then                       \
 * (NULL, NULL, NULL, the page's last key or NULL at the end). */                                  \
X(AUDIT_MISSING_PAGE, "audit_missing_page", 3, true,                                               \
  "SELECT kind, object, records, next_after FROM audit_missing_page($1, $2, $3::integer)") \
                                                                                                   \
/* The Merkle tree of the trail (schema/012). Add the records committed                            \
 * since, at most $1, in seq order: the size and root after, and the time. */                      \
X(AUDIT_TREE_EXTEND, "audit_tree_extend", 1, false,                                                \
  "SELECT tree_size, encode(root_hash, 'hex') AS root_hash, "                                      \
  SQL_TS_UTC_US("clock_timestamp()") " AS at FROM audit_tree_extend($1::integer)")                 \
                                                                                                   \
/* A signed tree head: $1 interval in seconds (NULL: on demand), $2 size,                          \
 * $3 root, $4 key id, $5 signed text, $6 signature, $7 answer. No row:                            \
 * this interval has its head. */                                                                  \
X(AUDIT_TREE_HEAD_INSERT, "audit_tree_head_insert", 7, false,                                      \
  "INSERT INTO audit_tree_head (slot, tree_size, root_hash, key_id, signed, signature, answer)"    \
  " VALUES (CASE WHEN $1::bigint IS NULL THEN NULL"                                                \
  "  ELSE floor(extract(epoch FROM now()) / $1::bigint)::bigint END, $2::bigint, $3, $4, $5,"      \
  "  $6, $7) ON CONFLICT (slot) DO NOTHING RETURNING id")                                          \
                                                                                                   \
X(AUDIT_TREE_HEAD_LATEST, "audit_tree_head_latest", 0, true,                                       \
  "SELECT id, answer FROM audit_tree_head ORDER BY id DESC LIMIT 1")                               \
                                                                                                   \
/* The inclusion proof of record $1 (seq), or when NULL of the record of                           \
 * agreement $2, in the tree of the first $3 leaves: the tree's size; the                          \
 * record (none: no such record), its leaf (NULL: not in the tree yet),                            \
 * canonical text and leaf hash from its columns as they are now; the path                         \
 * (NULL unless leaf < $3 <= size). */                                                             \
X(AUDIT_TREE_INCLUSION, "audit_tree_inclusion", 3, true,                                           \
  "SELECT s.size, x.seq, x.idx, x.canonical, x.leaf_hash,"                                         \
  "  CASE WHEN x.idx < $3::bigint AND $3::bigint <= s.size"                                        \
  "   THEN audit_tree_path_hex(audit_tree_inclusion(x.idx, $3::bigint)) END AS path"               \
  " FROM (SELECT audit_tree_size() AS size) s LEFT JOIN LATERAL"                                   \
  " (SELECT a.seq, l.idx, audit_canonical(a.seq, a.chain, a.chain_seq, a.recorded_at,"             \
  "   a.principal_id, a.organisation, a.action, a.object, a.detail) AS canonical,"                 \
  "   encode(audit_tree_leaf_hash(a), 'hex') AS leaf_hash"                                         \
  "  FROM audit_log a LEFT JOIN audit_tree_leaf l ON l.seq = a.seq"                                \
  "  WHERE a.seq = coalesce($1::bigint, (SELECT min(g.seq) FROM audit_log g"                       \
  "   WHERE g.object = $2::text AND g.action = 'agreement.issue'))) x ON true")                    \
                                                                                                   \
/* The consistency proof from the first $1 leaves to the first $2 (0 < $1                          \
 * <= $2): the tree's size, and when $2 <= size the two roots and the path */                      \
X(AUDIT_TREE_CONSISTENCY, "audit_tree_consistency", 2, true,                                       \
  "SELECT s.size, CASE WHEN $2::bigint <= s.size"                                                  \
  "   THEN encode(audit_tree_hash(0, $1::bigint), 'hex') END AS first_root,"                       \
  "  CASE WHEN $2::bigint <= s.size"                                                               \
  "   THEN encode(audit_tree_hash(0, $2::bigint), 'hex') END AS second_root,"                      \
  "  CASE WHEN $2::bigint <= s.size"                                                               \
  "   THEN audit_tree_path_hex(audit_tree_consistency($1::bigint, $2::bigint)) END AS path"        \
  " FROM (SELECT audit_tree_size() AS size) s")                                                    \
                                                                                                   \
/* On the standby of read_database: whether it is one, and the commit time                         \
 * (RFC 3339 UTC, microseconds) of the last transaction it replayed (NULL:                         \
 * none since it started) */                                                                       \
X(REPLICA_REPLAY, "replica_replay", 0, true,                                                       \
  "SELECT pg_is_in_recovery() AS standby, to_char(pg_last_xact_replay_timestamp() AT TIME ZONE"    \
  " 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS replayed_at")
/* clang-format on */

#endif
