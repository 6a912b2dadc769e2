/*
 * router: from a complete request to a handler: who is asking (principal
 * lookup by certificate fingerprint, cached per connection), which route,
 * whether that role may use it.
 */
#ifndef MEDAID_ROUTER_H
#define MEDAID_ROUTER_H

#include "pg.h"
#include "request.h"

void router_dispatch(struct request *r);

/* Answer a failed database step: 503 when the database is unavailable or
 * too slow (with Retry-After), 500 otherwise (logged). */
void request_db_error(struct request *r, enum pg_outcome o, const PGresult *res);

#endif
