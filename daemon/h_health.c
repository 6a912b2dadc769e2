/*
 * h_health: readiness. 200 when a query went through the worker's pool,
 * 503 (Retry-After) when the database is unavailable.
 */
#include "h_health.h"

#include <string.h>

#include "pg.h"
#include "queries.h"
#include "router.h"
#include "server.h"

static void health_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct request *r = arg;
    if (o != PG_OK) {
        request_db_error(r, o, res);
        return;
    }
    request_json(r, 200, strdup("{\"status\":\"ok\",\"database\":\"up\"}"));
}

void h_health(struct request *r)
{
    pg_submit(request_worker(r)->pool, &Q_HEALTH, NULL, health_cb, r);
}
