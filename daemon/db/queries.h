/*
 * queries: every SQL statement the daemon runs after start-up. Each is
 * prepared once per pooled connection; handlers refer to them by address.
 */
#ifndef MEDAID_QUERIES_H
#define MEDAID_QUERIES_H

#include "db/pg.h"

extern const struct pg_stmt Q_PRINCIPAL_BY_FINGERPRINT;
extern const struct pg_stmt Q_HEALTH;
extern const struct pg_stmt Q_DECISION_INSERT;
extern const struct pg_stmt Q_DECISION_NEW_VERSION;
extern const struct pg_stmt Q_IDEMPOTENCY_GET;
extern const struct pg_stmt Q_DECISION_CONFLICT;
extern const struct pg_stmt Q_DECISION_HISTORY;
extern const struct pg_stmt Q_COVERAGE_LOOKUP;
extern const struct pg_stmt Q_AGREEMENT_INSERT_MANY;
extern const struct pg_stmt Q_AGREEMENT_INSERT_CAP;
extern const struct pg_stmt Q_AGREEMENT_GET;
extern const struct pg_stmt Q_AGREEMENT_VOID;
extern const struct pg_stmt Q_TARIFF_IMPORT;
extern const struct pg_stmt Q_TARIFF_GET;
extern const struct pg_stmt Q_AUDIT_HEAD;
extern const struct pg_stmt Q_AUDIT_PAGE;
extern const struct pg_stmt Q_AUDIT_CONSULTATIONS;
extern const struct pg_stmt Q_AUDIT_DECISIONS;
extern const struct pg_stmt Q_AUDIT_AS_OF;
extern const struct pg_stmt Q_DECISION_GET;
extern const struct pg_stmt Q_DECISIONS_OF_PERSON;

/* NULL-terminated list of all of the above, for pg_pool_new */
extern const struct pg_stmt *const queries_all[];

#endif
