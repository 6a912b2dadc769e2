/*
 * db: a worker's pool and queues behind one handle.
 */
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "db/agreements.h"
#include "db/checkpoint.h"
#include "db/db_internal.h"
#include "db/pg.h"
#include "db/queries.h"
#include "db/reads.h"
#include "db/store.h"

/* ---- the standby of read_database ----------------------------------------- */

#define PROBE_MS 1000

static void probe_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct db *db = arg;
    struct db *sb = db->standby;
    db->probing = false;
    const char *at = NULL;
    if (o == PG_OK && PQntuples(res) == 1) {
        const char *standby = store_val(res, 0, store_col(res, "standby"));
        if (standby && strcmp(standby, "t") == 0)
            at = store_val(res, 0, store_col(res, "replayed_at"));
    }
    if (at && strlen(at) < sizeof sb->replayed_at) {
        if (!sb->replayed_at[0])
            log_info("%s: auditors' reads on the standby (replayed up to %s)", db->tag, at);
        snprintf(sb->replayed_at, sizeof sb->replayed_at, "%s", at);
        return;
    }
    if (sb->replayed_at[0])
        log_warn("%s: auditors' reads back on the primary (the standby %s)", db->tag,
                 o != PG_OK ? "does not answer" : "is not one, or has replayed nothing");
    sb->replayed_at[0] = '\0';
}

static void probe_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct db *db = arg;
    struct db *sb = db->standby;
    if (!pg_pool_up(sb->pool)) {
        if (sb->replayed_at[0])
            log_warn("%s: auditors' reads back on the primary (the standby is down)", db->tag);
        sb->replayed_at[0] = '\0';
        return;
    }
    if (db->probing)
        return;
    db->probing = true;
    pg_submit(sb->pool, &Q_REPLICA_REPLAY, NULL, probe_cb, db);
}

static bool standby_open(struct db *db, struct event_base *base, const struct pg_pool_opts *po,
                         const char *tag)
{
    struct db *sb = xcalloc(1, sizeof *sb);
    db->standby = sb;
    *sb = (struct db){.cfg = db->cfg,
                      .agreements = db->agreements,
                      .reads = db->reads,
                      .checkpoints = db->checkpoints,
                      .is_standby = true};
    struct pg_pool_opts so = *po;
    so.standby = true;
    snprintf(sb->tag, sizeof sb->tag, "%s/standby", tag);
    sb->pool = pg_pool_new(base, db->cfg->read_database, &so, queries_all, sb->tag);
    db->ev_probe = event_new(base, -1, EV_PERSIST, probe_tick, db);
    struct timeval tv = clock_tv(PROBE_MS);
    return sb->pool && db->ev_probe && event_add(db->ev_probe, &tv) == 0;
}

struct db *db_auditor(struct db *db)
{
    struct db *sb = db->standby;
    if (sb && sb->replayed_at[0] && pg_pool_up(sb->pool))
        return sb;
    return db;
}

bool db_standby_replay(const struct db *h, char *out, size_t n)
{
    if (!h->is_standby || !h->replayed_at[0] || n < sizeof h->replayed_at)
        return false;
    snprintf(out, n, "%s", h->replayed_at);
    return true;
}

/* ---- the handle ------------------------------------------------------------ */

struct db *db_new(struct event_base *base, const struct config *cfg, const char *tag)
{
    struct db *db = xcalloc(1, sizeof *db);
    db->cfg = cfg;
    snprintf(db->tag, sizeof db->tag, "%s", tag);
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
    bool standby_failed = false;
    if (db->pool && db->agreements && db->reads && !key_failed && *cfg->read_database)
        standby_failed = !standby_open(db, base, &po, tag);
    if (!db->pool || !db->agreements || !db->reads || key_failed || standby_failed) {
        db_free(db);
        return NULL;
    }
    return db;
}

void db_free(struct db *db)
{
    if (!db)
        return;
    if (db->ev_probe)
        event_free(db->ev_probe);
    if (db->standby) {
        pg_pool_free(db->standby->pool); /* its queues are db's */
        free(db->standby);
    }
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
