/*
 * queries: the prepared-statement table, generated from the one list of
 * db/statements.h.
 */
#include "db/queries.h"

#define X(id, name, nparams, readonly, sql)                                                        \
    const struct pg_stmt Q_##id = {name, sql, nparams, readonly};
DB_STATEMENTS(X)
#undef X

#define X(id, name, nparams, readonly, sql) &Q_##id,
const struct pg_stmt *const queries_all[] = {DB_STATEMENTS(X) NULL};
#undef X
