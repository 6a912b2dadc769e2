/*
 * queries: the table of prepared statements made from db/statements.h.
 * Each is prepared once per pooled connection; the stores of db/ refer to
 * them by address (Q_<ID>).
 */
#ifndef MEDAID_QUERIES_H
#define MEDAID_QUERIES_H

#include "db/pg.h"
#include "db/statements.h"

#define X(id, name, nparams, readonly, sql) extern const struct pg_stmt Q_##id;
DB_STATEMENTS(X)
#undef X

/* NULL-terminated list of all of the above, for pg_pool_new */
extern const struct pg_stmt *const queries_all[];

#endif
