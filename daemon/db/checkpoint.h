/*
 * checkpoint: signed checkpoints of the audit chain heads.
 *
 * A checkpoint is every chain's head (chain, chain_seq, seq, hash) at a
 * moment, signed with the daemon's Ed25519 key (audit_signing_key), and
 * kept in audit_checkpoint. Saved outside the registry, it lets an auditor
 * find later that a chain was cut back (POST /v1/audit/verify): the
 * database alone cannot tell a chain whose tail was removed and whose head
 * was moved back from one that never grew.
 *
 * Each worker makes one at every multiple of audit_checkpoint_interval_s
 * (the interval's number is unique in the table, so several workers or
 * instances make one between them), and one on demand.
 *
 * The signature covers this text (checkpoint_text), UTF-8, every line
 * ending in "\n":
 *     medaid audit checkpoint v1
 *     created_at <RFC 3339 UTC with microseconds>
 *     key_id <SHA-256 of the raw public key, hex>
 *     <chain> <chain_seq> <seq> <hash>        (one line per chain, in order)
 */
#ifndef MEDAID_DB_CHECKPOINT_H
#define MEDAID_DB_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

struct event_base;
struct sign_key;
struct checkpointer;

struct checkpoint_head {
    int chain;
    int64_t chain_seq, seq;
    char hash[65];
};

/* The signed text (malloc'd). */
char *checkpoint_text(const char *created_at, const char *key_id, const struct checkpoint_head *h,
                      size_t n);

/* false when no audit_signing_key is configured */
bool db_checkpoints_enabled(const struct db *db);
/* the key's id; NULL when disabled */
const char *db_checkpoint_key_id(const struct db *db);
/* the signing key (db/tree.c signs tree heads with it); NULL when disabled */
const struct sign_key *db_checkpoint_key(const struct db *db);
/* true when sig is the daemon's key's signature of text */
bool db_checkpoint_signed(const struct db *db, const char *text, const char *sig);

/* json: the checkpoint as answered ({"id",...}); NULL with PG_OK when there
 * is none (latest) or when this interval has one already (timer only). */
typedef void (*db_checkpoint_cb)(void *arg, enum pg_outcome o, const char *json);
/* Make one now (enabled only). */
void db_checkpoint_make(struct db *db, db_checkpoint_cb cb, void *arg);
void db_checkpoint_latest(struct db *db, db_checkpoint_cb cb, void *arg);
/* For db/tree.c: the latest row (id, answer) of stmt, answered as
 * {"id":..., answer's members}; NULL with PG_OK when there is none. */
struct pg_stmt;
void db_signed_latest(struct db *db, const struct pg_stmt *stmt, db_checkpoint_cb cb, void *arg);

/* Versions and agreements without exactly one audit record: the first
 * (kind "decision_version" or "agreement", object, records) or NULLs. */
typedef void (*db_missing_cb)(void *arg, enum pg_outcome o, const char *kind, const char *object,
                              int64_t records);
void db_audit_missing(struct db *db, db_missing_cb cb, void *arg);

/* For db/db.c: NULL with *failed when the key does not load (logged). */
struct checkpointer *checkpointer_new(struct event_base *base, struct db *db, bool *failed);
void checkpointer_free(struct checkpointer *c);

#endif
