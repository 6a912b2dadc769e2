/*
 * reads: the audit records of reads, through a group commit.
 *
 * Every read of a person's data leaves one record in the audit trail
 * (action read.*, schema/006_anchor.sql: audit_append_reads). The reads
 * answered in one turn of a worker's loop are appended with one statement
 * (one transaction, one commit), like the coverage answers (db/agreements.h):
 * a read costs no fsync of its own. The caller answers only after the
 * callback says PG_OK, so a read that was answered is in the trail.
 *
 * Every call ends in exactly one callback, later, from the worker's loop.
 */
#ifndef MEDAID_DB_READS_H
#define MEDAID_DB_READS_H

#include <stdint.h>

#include "db/db.h"

struct event_base;
struct pg_pool;
struct read_queue;

/* action: "read.decision", ...; object: what was read (D2026-00000001/3,
 * A2026-00000042, /v1/audit/consultations); ssin: the person, or NULL
 * (the detail is {"ssin": ...}). Copied. */
void db_read_record(struct db *db, int64_t principal, const char *action, const char *object,
                    const char *ssin, db_done_cb cb, void *arg);

/* For db/db.c: a worker's queue. */
struct read_queue *reads_new(struct event_base *base, struct pg_pool *pool);
void reads_free(struct read_queue *q);

#endif
