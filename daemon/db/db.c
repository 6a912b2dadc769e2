/*
 * db: a worker's pool and queues behind one handle.
 */
#include "db/db.h"

#include <stdlib.h>

#include "base/mem.h"
#include "db/agreements.h"
#include "db/checkpoint.h"
#include "db/db_internal.h"
#include "db/pg.h"
#include "db/queries.h"
#include "db/reads.h"

struct db *db_new(struct event_base *base, const struct config *cfg, const char *tag)
{
    struct db *db = xcalloc(1, sizeof *db);
    db->cfg = cfg;
    struct pg_pool_opts po = {
        .size = (int)cfg->db_pool_size,
        .queue_timeout_ms = cfg->db_queue_timeout_ms,
        .statement_timeout_ms = cfg->db_statement_timeout_ms,
        .connect_timeout_ms = cfg->db_connect_timeout_ms,
        .retry_max_ms = cfg->db_retry_max_ms,
        .wait_timeout_ms = cfg->db_wait_timeout_ms,
    };
    db->pool = pg_pool_new(base, cfg->database, &po, queries_all, tag);
    bool key_failed = false;
    db->agreements = db->pool ? agreements_new(base, db->pool, cfg, &key_failed) : NULL;
    db->reads = db->pool ? reads_new(base, db->pool) : NULL;
    if (db->pool && !key_failed)
        db->checkpoints = checkpointer_new(base, db, &key_failed);
    if (!db->pool || !db->agreements || !db->reads || key_failed) {
        db_free(db);
        return NULL;
    }
    return db;
}

void db_free(struct db *db)
{
    if (!db)
        return;
    checkpointer_free(db->checkpoints);
    reads_free(db->reads);
    agreements_free(db->agreements);
    pg_pool_free(db->pool);
    free(db);
}

bool db_up(const struct db *db)
{
    return pg_pool_up(db->pool);
}

const struct config *db_config(const struct db *db)
{
    return db->cfg;
}

enum problem db_outcome_problem(enum pg_outcome o, const char **detail)
{
    switch (o) {
    case PG_TIMEOUT:
        *detail = "the database did not answer in time; nothing was changed, retry shortly";
        return PROBLEM_DATABASE_TIMEOUT;
    case PG_WR_TIMEOUT:
        *detail = "the database did not answer in time; the outcome is unknown (the change may "
                  "have been made): a retry with the same Idempotency-Key is safe and gives the "
                  "first answer if it was";
        return PROBLEM_DATABASE_TIMEOUT;
    case PG_LOST:
        *detail = "the database connection was lost; the outcome is unknown, retry (writes are "
                  "idempotent with Idempotency-Key)";
        return PROBLEM_DATABASE_UNAVAILABLE;
    case PG_UNAVAILABLE:
    case PG_RETRY:
        *detail = "the database is unavailable; retry shortly";
        return PROBLEM_DATABASE_UNAVAILABLE;
    case PG_BAD_DATA:
        *detail = "stored data unreadable";
        return PROBLEM_INTERNAL_ERROR;
    case PG_OK:
    case PG_ERROR:
    case PG_INVALID:
        break;
    }
    *detail = "the registry could not complete the request";
    return PROBLEM_INTERNAL_ERROR;
}
