/*
 * db: one worker's way to the database: its pool of asynchronous libpq
 * connections and its group-commit queues, behind one opaque handle that the
 * stores (db/decisions.h, db/agreements.h, ...) take as their first argument.
 * Handlers get it from their request (request_db) and never see libpq.
 */
#ifndef MEDAID_DB_DB_H
#define MEDAID_DB_DB_H

#include <stdbool.h>

#include "base/config.h"
#include "proto/problem.h"

struct event_base;
struct db;

/* How a database step ended, as the pool (db/pg.c, the one place that reads
 * SQLSTATEs to tell a transient failure from a real one) reports it and the
 * stores pass it on. api/common.h turns it into an answer. */
enum pg_outcome {
    PG_OK,          /* done */
    PG_ERROR,       /* the statement failed for a reason of its own: a bug or a
                     * constraint the store did not expect (500) */
    PG_UNAVAILABLE, /* not done, safe to retry: no connection in time, or the
                     * server refused for a passing reason (connection failure,
                     * shutdown, cannot connect now, too many connections,
                     * statement timeout / cancel) */
    PG_LOST,        /* connection lost after sending: outcome unknown (a
                     * read-only statement is run again instead, twice at most) */
    PG_RETRY,       /* rolled back by a concurrent transaction (serialization
                     * failure, deadlock): not done, running it again is the cure */
    PG_INVALID,     /* the server refused a parameter's value (SQLSTATE class 22) */
    PG_BAD_DATA,    /* a stored value did not decode (logged by the store) */
    PG_TIMEOUT,     /* no answer within db_wait_timeout_ms and nothing changed:
                     * still queued, or read-only (its connection is dropped) */
    PG_WR_TIMEOUT,  /* a write was sent and not answered within
                     * db_wait_timeout_ms: its connection is dropped and the
                     * outcome is unknown (the server may still commit it) */
};

/* The callback of a store call that fills what its caller gave it. */
typedef void (*db_done_cb)(void *arg, enum pg_outcome o);

/* true for the outcomes a client should retry (503 with Retry-After),
 * the timeouts included */
bool pg_outcome_transient(enum pg_outcome o);

/* Open a worker's pool (connections are made in the background: never NULL
 * for a reachable or unreachable database alike; NULL only on a bad conninfo
 * or allocation failure). tag names the worker in logs ("w0"). */
struct db *db_new(struct event_base *base, const struct config *cfg, const char *tag);
/* Drop every connection and queue; only after every caller is gone. */
void db_free(struct db *db);
/* true when at least one connection is up */
bool db_up(const struct db *db);
/* The configuration the worker was started with. */
const struct config *db_config(const struct db *db);

/* The handle that an auditor's reads go through (read_database): the
 * standby's while it is configured, connected and has told its replay time
 * at its last probe (every second); else db itself, the primary. Take it
 * once per request: every read of one answer then sees one database. What
 * is written through either handle (the read-audit trail) goes to the
 * primary. */
struct db *db_auditor(struct db *db);
/* true when h is a standby's handle (db_auditor), with the commit time, RFC
 * 3339 UTC, of the last transaction the standby had replayed at its last
 * probe in out (n >= 40) */
bool db_standby_replay(const struct db *h, char *out, size_t n);

/* The one answer to a failed database step: the problem (503
 * database_timeout for PG_TIMEOUT and PG_WR_TIMEOUT, 503
 * database_unavailable for the other transient outcomes, else 500
 * internal_error) and its detail. */
enum problem db_outcome_problem(enum pg_outcome o, const char **detail);

#endif
