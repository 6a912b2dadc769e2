/*
 * pg: a per-worker pool of non-blocking libpq connections.
 *
 * Connections are opened with PQconnectStartParams/PQconnectPoll, every
 * statement of the registry is prepared once per connection, and queries
 * run with PQsendQueryPrepared driven by PQsocket events on the worker's
 * event loop. Nothing here blocks.
 *
 * Every pg_submit gets exactly one callback, always later from the event
 * loop (never from inside pg_submit), so a caller may free its own state in
 * the callback and may submit again from it.
 */
#ifndef MEDAID_PG_H
#define MEDAID_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "db/db.h"

struct event_base;
struct pg_pool;

/* enum pg_outcome: db/db.h. With PG_OK, res is PGRES_TUPLES_OK or
 * PGRES_COMMAND_OK; with PG_ERROR, PG_RETRY, PG_INVALID and (when the server
 * answered) PG_UNAVAILABLE, res holds the error (pg_sqlstate); else NULL. */

typedef void (*pg_cb)(void *arg, enum pg_outcome outcome, const PGresult *res);

#define PG_MAX_PARAMS 16

struct pg_stmt {
    const char *name;
    const char *sql;
    int nparams;
    bool readonly; /* safe to run again when its connection is lost */
};

struct pg_pool_opts {
    int size;
    int64_t queue_timeout_ms;
    int64_t statement_timeout_ms;
    int64_t connect_timeout_ms;
    int64_t retry_max_ms;
    int64_t wait_timeout_ms; /* the longest wait of one statement, queue to result */
    bool standby;            /* a read pool on a standby (read_database): kept out of the
                              * pool gauges, so that readiness is the primary's alone */
};

/* stmts: NULL-terminated array of every statement to prepare. tag names the
 * pool in logs ("w0"). */
struct pg_pool *pg_pool_new(struct event_base *base, const char *conninfo,
                            const struct pg_pool_opts *opts, const struct pg_stmt *const *stmts,
                            const char *tag);
/* Close every connection. Queries not yet completed are dropped without
 * callback: call only after the callers are gone. */
void pg_pool_free(struct pg_pool *p);

/* Run a prepared statement; params are copied (NULL = SQL NULL). nparams
 * must be the statement's: a mismatch is a programming error and aborts. */
void pg_submit_n(struct pg_pool *p, const struct pg_stmt *stmt, const char *const *params,
                 int nparams, pg_cb cb, void *arg);
/* The number of elements of an array of parameters, 0 for NULL. */
#define PG_NARGS(a) _Generic((a), void * : 0, default : (int)(sizeof(a) / sizeof(const char *)))
/* params: an array (its length is checked against the statement's), or NULL
 * for a statement without parameters. */
#define pg_submit(p, stmt, params, cb, arg)                                                        \
    pg_submit_n((p), (stmt), (params), PG_NARGS(params), (cb), (arg))

/* true when at least one connection is ready or busy */
bool pg_pool_up(const struct pg_pool *p);

/* SQLSTATE of an error result ("23505"), or "" */
const char *pg_sqlstate(const PGresult *res);

#endif
