/*
 * agreements: the store of coverage answers (agreements), and what an
 * answer is computed from.
 *
 * Answers that arrive during one turn of a worker's event loop are written
 * in one statement (one transaction, one commit) at the end of that turn:
 * durability costs one fsync per turn, not one per answer. Each answer is
 * acknowledged to its caller only after that commit.
 *
 * Every call ends in exactly one callback, later, from the worker's loop;
 * what it is given is valid during the call only.
 */
#ifndef MEDAID_AGREEMENTS_H
#define MEDAID_AGREEMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/coverage.h"
#include "proto/date.h"
#include "proto/decision.h"
#include "proto/tariff.h"
#include "db/db.h"

struct event_base;
struct pg_pool;
struct agreement_queue;

/* Everything one coverage answer is computed from, read in one round trip
 * under the person's lock (schema/005_reads.sql: coverage_lookup). */
struct coverage_facts {
    struct decision *decisions; /* as they stood for the service date; malloc'd */
    size_t n;
    struct tariff_set tariffs; /* the lines of the asked codes on that date */
    int64_t used_cents;        /* what the month's patient-share cap already granted */
    char known_at[40];         /* when the data was read (RFC 3339 UTC, microseconds) */
};
void coverage_facts_free(struct coverage_facts *f);

/* Fill *out (freed first; the caller's) for question q; the business time
 * zone is the configured one. */
void db_coverage_lookup(struct db *db, const struct coverage_question *q,
                        struct coverage_facts *out, db_done_cb cb, void *arg);

struct agreement_rec {
    int64_t provider_id;
    char provider_org[16];
    char ssin[12];
    pdate service_date;
    enum care_type care_type;
    bool covered;
    const char *reason;   /* refusal code (static) or NULL */
    char decision_id[24]; /* "" when no decision answered */
    int decision_version;
    char known_at[40]; /* when the answer's data was read ("" when none was) */
    char *question;    /* JSON, malloc'd, taken over */
    char *answer;      /* JSON object without "agreement", malloc'd, taken over */
};

/* answer: the text recorded and to be sent, with its agreement number and
 * its signature (proto/answer_sig.h: every answer recorded here is signed
 * with agreement_signing_key when one is configured)
 * (NULL unless o == PG_OK; for a capped answer, NULL with PG_OK too when it
 * no longer fits under the cap). */
typedef void (*agreement_cb)(void *arg, enum pg_outcome o, const char *answer);

/* Record rec (taken over) through the group commit of this loop turn. */
void db_agreement_record(struct db *db, struct agreement_rec *rec, agreement_cb cb, void *arg);
/* Record rec (taken over), which grants `granted` cents (>= 0) of a monthly
 * cap of `cap` cents, through the same group commit, only if that still
 * fits. cap_text is the cap's state as rec->answer gives it
 * (coverage_cap_text "patient_share"): when the month's usage, read under
 * the person's lock, is no longer the one it states, it is replaced by the
 * state of the usage as it is then (what was used before this answer, what
 * is left after it) and the answer goes in the next group commit. */
void db_agreement_record_capped(struct db *db, struct agreement_rec *rec, int64_t granted,
                                int64_t cap, const char *cap_text, agreement_cb cb, void *arg);

/* An agreement as recorded: a NULL when there is no such number. */
struct agreement_view {
    const char *answer;       /* exactly as it was sent */
    const char *provider_org; /* the provider it was issued to */
    const char *ssin;         /* the person it is about */
    const char *voided_at;    /* NULL unless voided */
};
typedef void (*agreement_get_cb)(void *arg, enum pg_outcome o, const struct agreement_view *a);
void db_agreement_get(struct db *db, const char *number, agreement_get_cb cb, void *arg);

enum agreement_void_result {
    AV_VOIDED,
    AV_ALREADY,   /* voided before */
    AV_NOT_FOUND, /* no such agreement of that provider */
    AV_BILLED,    /* it has an accepted invoice line: it stays */
};
/* number and voided_at with AV_VOIDED */
typedef void (*agreement_void_cb)(void *arg, enum pg_outcome o, enum agreement_void_result v,
                                  const char *number, const char *voided_at);
void db_agreement_void(struct db *db, const char *number, const char *provider_org,
                       int64_t principal, agreement_void_cb cb, void *arg);

/* Sign data[0..len) with the agreement key, for an answer that is not
 * recorded through the two calls above (answers recorded by them are
 * signed there): key_id gets 65 bytes (hex id), value 89 (base64). false
 * when there is no agreement_signing_key or signing failed (logged). For
 * an answer, sign answer_sig_payload() of it and attach the result with
 * answer_sig_attach() (proto/answer_sig.h). */
bool db_agreement_sign(const struct db *db, const char *data, size_t len, char *key_id,
                       char *value);

/* A public key that signs or signed agreements (GET /v1/keys). */
struct agreement_pubkey {
    char key_id[65];      /* SHA-256 of the raw key, hex */
    char public_key[48];  /* the raw 32-byte Ed25519 key, base64 */
    char valid_from[32];  /* its first use (RFC 3339 UTC), "" when not used yet */
    char valid_until[32]; /* the next key's first use, "" while none */
    bool current;         /* the key that signs new answers */
};
typedef void (*agreement_keys_cb)(void *arg, enum pg_outcome o, const struct agreement_pubkey *k,
                                  size_t n);
/* Every key the database recorded (oldest first), then the configured ones
 * it has not seen sign (agreement_public_keys, agreement_signing_key). */
void db_agreement_keys(struct db *db, agreement_keys_cb cb, void *arg);

struct config;
/* For db/db.c: a worker's group-commit queue, with the signing key of
 * cfg (agreement_signing_key; none: answers are not signed) and the older
 * public keys (agreement_public_keys). NULL with *key_failed when a key
 * does not load (logged). */
struct agreement_queue *agreements_new(struct event_base *base, struct pg_pool *pool,
                                       const struct config *cfg, bool *key_failed);
void agreements_free(struct agreement_queue *q);

#endif
