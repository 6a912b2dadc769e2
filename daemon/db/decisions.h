/*
 * decisions: the store of decisions and their versions, and of the
 * idempotency keys of their writes.
 *
 * Every call ends in exactly one callback, later, from the worker's loop.
 * What a callback is given is valid during the call only.
 */
#ifndef MEDAID_DB_DECISIONS_H
#define MEDAID_DB_DECISIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/decision.h"
#include "db/db.h"

/* d: the version read (NULL when there is no such decision or version);
 * current_version: the decision's current version number. */
typedef void (*db_decision_cb)(void *arg, enum pg_outcome o, const struct decision *d,
                               int current_version);
/* version 0: the current one */
void db_decision_get(struct db *db, const char *id, int version, db_decision_cb cb, void *arg);

/* ds: the current version of every decision of the person, in number order */
typedef void (*db_decisions_cb)(void *arg, enum pg_outcome o, const struct decision *ds, size_t n);
void db_decisions_of_person(struct db *db, const char *ssin, db_decisions_cb cb, void *arg);

struct decision_history_entry {
    struct decision d;
    const char *change; /* create, update, suspend, resume, stop */
    int64_t principal;  /* who recorded it */
    const char *role, *organisation, *name;
};
/* v: every version, oldest first (n == 0: no such decision) */
typedef void (*db_history_cb)(void *arg, enum pg_outcome o, const struct decision_history_entry *v,
                              size_t n);
void db_decision_history(struct db *db, const char *id, db_history_cb cb, void *arg);

/* The decision that d (a new one, or a change of decision own_id) collides
 * with: its number and OCMW, NULL when none is found any more. */
typedef void (*db_conflict_cb)(void *arg, enum pg_outcome o, const char *decision,
                               const char *ocmw);
void db_decision_conflict(struct db *db, const struct decision *d, const char *own_id,
                          db_conflict_cb cb, void *arg);

/* An idempotency key as recorded: k NULL when the key is new. */
struct idempotency_rec {
    const char *request_hash;
    const char *decision_id;
    int version;
    int status_code;
};
typedef void (*db_idempotency_cb)(void *arg, enum pg_outcome o, const struct idempotency_rec *k);
void db_idempotency_get(struct db *db, const char *organisation, const char *key,
                        db_idempotency_cb cb, void *arg);

/* A write: version 1 of a new decision (id NULL), or a new version of id
 * that replaces version `replaces`. The document d is stored as its
 * canonical encoding. */
struct decision_write {
    const char *id;
    const char *ocmw; /* the recording (owning) OCMW */
    int64_t principal;
    int replaces;
    const char *change;
    const char *key;  /* Idempotency-Key, or NULL */
    const char *hash; /* of the request, with a key */
    const struct decision *d;
};
enum decision_write_result {
    DW_WRITTEN,
    DW_OVERLAP,   /* another decision of the kind covers some of these days */
    DW_KEY_TAKEN, /* the Idempotency-Key was recorded meanwhile */
    DW_STALE,     /* the replaced version is not current any more */
};
/* With DW_WRITTEN: the decision's number, the version written and when. A
 * write that a concurrent one rolled back (deadlock) is run again a few
 * times before its PG_RETRY is reported. */
typedef void (*db_write_cb)(void *arg, enum pg_outcome o, enum decision_write_result w,
                            const char *id, int version, const char *recorded_at);
void db_decision_write(struct db *db, const struct decision_write *w, db_write_cb cb, void *arg);

#endif
