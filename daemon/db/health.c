/*
 * health: one trivial statement through the pool.
 */
#include "db/health.h"

#include <stdlib.h>

#include "base/mem.h"
#include "db/store.h"

struct health_call {
    db_done_cb cb;
    void *arg;
};

static void health_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct health_call call = *(struct health_call *)arg;
    free(arg);
    call.cb(call.arg, store_outcome(&Q_HEALTH, o, res));
}

void db_health(struct db *db, db_done_cb cb, void *arg)
{
    struct health_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    pg_submit(db->pool, &Q_HEALTH, NULL, health_cb, call);
}
