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

struct event_base;
struct db;

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

/* Transitional, until every handler is on a typed store: the raw pool and the
 * agreement queue. */
struct pg_pool *db_pool(const struct db *db);
struct agreement_queue *db_agreement_queue(const struct db *db);

#endif
