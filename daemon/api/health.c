/*
 * h_health: readiness. 200 when a query went through the worker's pool,
 * 503 (Retry-After) when the database is unavailable.
 */
#include "api/health.h"

#include "api/common.h"
#include "base/mem.h"
#include "db/health.h"

static void health_cb(void *arg, enum pg_outcome o)
{
    struct request *r = arg;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    request_json(r, 200, xstrdup("{\"status\":\"ok\",\"database\":\"up\"}"));
}

void h_health(struct request *r)
{
    db_health(request_db(r), health_cb, r);
}
