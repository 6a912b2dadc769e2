/*
 * audit: the auditor's reads: the hash chains of the audit trail, the
 * lists of consultations and decision versions, and what the registry knew
 * at a moment.
 *
 * Every call ends in exactly one callback, later, from the worker's loop;
 * what it is given is valid during the call only. A filter's value that the
 * database refuses is reported as PG_INVALID.
 */
#ifndef MEDAID_DB_AUDIT_H
#define MEDAID_DB_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/date.h"
#include "proto/coverage.h"
#include "proto/decision.h"
#include "proto/tariff.h"
#include "db/db.h"

/* the end of a chain */
struct audit_head {
    int chain;
    int64_t chain_seq; /* records in the chain */
    int64_t seq;       /* the global number of its last record */
    const char *hash;
};
typedef void (*db_audit_heads_cb)(void *arg, enum pg_outcome o, const struct audit_head *h,
                                  size_t n);
/* every chain's head, in chain order */
void db_audit_heads(struct db *db, db_audit_heads_cb cb, void *arg);

struct audit_record {
    int64_t seq;
    int chain;
    int64_t chain_seq;
    const char *canonical; /* the text its hash covers */
    size_t canonical_len;
    const char *prev_hash, *hash;
};
typedef void (*db_audit_records_cb)(void *arg, enum pg_outcome o, const struct audit_record *rec,
                                    size_t n);
/* At most limit records, chain by chain, after (chain, chain_seq). */
void db_audit_page(struct db *db, int chain, int64_t chain_seq, int limit, db_audit_records_cb cb,
                   void *arg);

/* One item of a list, as JSON text, with the cursor that continues after
 * it: consultations: cursor[0] (the agreement number); decisions:
 * cursor[0..2] (recorded_at in UTC with microseconds, decision, version). */
struct audit_item {
    const char *json;
    size_t len;
    const char *cursor[3];
};
typedef void (*db_audit_items_cb)(void *arg, enum pg_outcome o, const struct audit_item *items,
                                  size_t n);

/* Filters: NULL for none. */
struct consultation_filter {
    const char *ssin, *provider, *ocmw;
    const char *service_from, *service_to;   /* dates, inclusive */
    const char *recorded_from, *recorded_to; /* timestamps, [from, to) */
    const char *outcome;                     /* covered, not_covered or a reason code */
};
/* after: a cursor[0] of an earlier page, or NULL */
void db_audit_consultations(struct db *db, const struct consultation_filter *f, const char *after,
                            int limit, db_audit_items_cb cb, void *arg);

struct decision_filter {
    const char *ocmw, *ssin, *changed_since, *status;
};
/* after: the cursor of an earlier page (three strings), or NULL */
void db_audit_decisions(struct db *db, const struct decision_filter *f, const char *const *after,
                        int limit, db_audit_items_cb cb, void *arg);

/* Who read a person's data: the read records (read.*) and coverage answers
 * (agreement.issue) about ssin, in seq order after `after` (a cursor[0],
 * the seq; or NULL). Items: seq, recorded_at, principal, role, name,
 * organisation, action, object. */
void db_audit_reads(struct db *db, const char *ssin, const char *after, int limit,
                    db_audit_items_cb cb, void *arg);

/* What the registry knew at a moment about a person, for a service date
 * (schema/009_tariff_versions.sql: coverage_as_of). */
struct as_of_facts {
    struct decision *decisions; /* malloc'd; NULL when none */
    size_t n;
    pdate today;               /* the calendar date at that moment */
    char known_at[40];         /* the moment, RFC 3339 UTC with microseconds */
    struct tariff_set tariffs; /* the asked codes' lines in the version in force then */
    int64_t tariff_version;    /* that version (0: none was imported yet) */
    int64_t used_cents;        /* what the month's patient-share cap had granted then */
    char provider_kinds[160];  /* the asked provider's kinds then, comma-separated
                                * ("" when it had none or none was asked) */
};
void as_of_facts_free(struct as_of_facts *f);
/* Fill *out (the caller's, empty) for question q (ssin, service date, care
 * type, item codes); known_at: an RFC 3339 timestamp or a date; provider:
 * the asking provider's organisation, or NULL; the business time zone is the
 * configured one. */
void db_audit_as_of(struct db *db, const struct coverage_question *q, const char *known_at,
                    const char *provider, struct as_of_facts *out, db_done_cb cb, void *arg);

#endif
