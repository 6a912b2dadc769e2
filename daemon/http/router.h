/*
 * router: from a complete request to a handler: who is asking (principal
 * lookup by certificate fingerprint, cached per connection), which route,
 * whether that role may use it.
 */
#ifndef MEDAID_ROUTER_H
#define MEDAID_ROUTER_H

#include "base/config.h"
#include "db/pg.h"
#include "http/request.h"

void router_dispatch(struct request *r);

/* The largest body accepted for that method and path: max_bulk_body_bytes
 * for the bulk routes (tariff import, coverage batch), max_body_bytes
 * otherwise. Known when the head arrives, before the body is read. */
int64_t router_body_limit(enum http_method m, const char *path, const struct config *cfg);

/* Answer a failed database step: 503 when the database is unavailable or
 * too slow (with Retry-After), 500 otherwise (logged). */
void request_db_error(struct request *r, enum pg_outcome o, const PGresult *res);

#endif
