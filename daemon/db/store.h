/*
 * store: what the stores of db/ share, and only they: results read by
 * column name, a decision read from its columns, and the log line of a
 * failure that no store expected.
 */
#ifndef MEDAID_DB_STORE_H
#define MEDAID_DB_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/decision.h"
#include "db/db_internal.h"
#include "db/pg.h"
#include "db/queries.h"

/* The column named name of res; a statement without it is a programming
 * error and aborts. Look it up once per result, not per row. */
int store_col(const PGresult *res, const char *name);
/* The value (NULL for SQL NULL) */
const char *store_val(const PGresult *res, int row, int col);
int64_t store_int(const PGresult *res, int row, int col);

/* The columns of a decision version: id (or decision_id), version, status,
 * ocmw, body, recorded_at. */
struct decision_cols {
    int id, version, status, ocmw, body, recorded_at;
};
void decision_cols_find(const PGresult *res, struct decision_cols *c);
/* Row `row` into d; false when the stored document does not parse (logged). */
bool decision_from_row(const PGresult *res, int row, const struct decision_cols *c,
                       struct decision *d);

/* The decisions of a lookup (columns as decision_cols_find, death_date and
 * before_stop), into a malloc'd array (NULL when none: a single row whose
 * decision is NULL). False when one does not parse (logged). */
bool decisions_known_from_rows(const PGresult *res, struct decision **out, size_t *n_out);

/* The outcome to pass on: o, with a PG_ERROR that the store does not handle
 * itself logged with its statement and SQLSTATE. */
enum pg_outcome store_outcome(const struct pg_stmt *s, enum pg_outcome o, const PGresult *res);

#endif
