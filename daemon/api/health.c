/*
 * h_health: readiness. 200 when a query went through the worker's pool,
 * 503 (Retry-After) when the database is unavailable.
 */
#include "api/health.h"

#include <string.h>

#include "db/db.h"
#include "db/pg.h"
#include "db/queries.h"
#include "http/router.h"
#include "net/server.h"

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
    pg_submit(db_pool(request_db(r)), &Q_HEALTH, NULL, health_cb, r);
}
