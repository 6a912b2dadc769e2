/*
 * invoices: the store of invoices, their line outcomes, payments and the
 * monthly statements (schema/008_invoices.sql). The check of a line is
 * proto/invoice.c's; this store reads what it needs and records the
 * outcome, in one statement, only if what was read still holds.
 *
 * Every call ends in exactly one callback, later, from the worker's loop;
 * what it is given is valid during the call only unless said otherwise.
 */
#ifndef MEDAID_DB_INVOICES_H
#define MEDAID_DB_INVOICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/invoice.h"
#include "db/db.h"

/* facts: malloc'd, the callee's (free it); one per agreement of that
 * provider among the quoted ones (unknown numbers have none). */
typedef void (*invoice_facts_cb)(void *arg, enum pg_outcome o, struct agreement_facts *facts,
                                 size_t n);
void db_invoice_facts(struct db *db, const char *provider_org, const struct invoice_input *in,
                      invoice_facts_cb cb, void *arg);

struct invoice_write {
    int64_t provider_id;
    const char *provider_org;
    const char *key; /* Idempotency-Key or NULL */
    const char *hash;
    pdate invoice_date;
    const struct invoice_input *in;
    const enum invoice_reject *out; /* the outcome of each line */
    const struct agreement_facts *facts;
    size_t n_facts;
    const char *answer; /* without the invoice number */
};
enum invoice_write_result {
    IW_RECORDED,
    IW_KEY_TAKEN, /* another request with that key was recorded meanwhile */
    IW_CHANGED,   /* the facts changed since they were read: read and check again */
};
/* id and answer with IW_RECORDED */
typedef void (*invoice_write_cb)(void *arg, enum pg_outcome o, enum invoice_write_result w,
                                 const char *id, const char *answer);
void db_invoice_record(struct db *db, const struct invoice_write *w, invoice_write_cb cb,
                       void *arg);

/* The invoice recorded with that key (NULLs when none). */
typedef void (*invoice_key_cb)(void *arg, enum pg_outcome o, const char *hash, const char *answer);
void db_invoice_by_key(struct db *db, const char *provider_org, const char *key, invoice_key_cb cb,
                       void *arg);

/* The invoice as answered, with its payments (NULLs when none). */
typedef void (*invoice_doc_cb)(void *arg, enum pg_outcome o, const char *provider_org,
                               const char *doc);
void db_invoice_get(struct db *db, const char *id, invoice_doc_cb cb, void *arg);

struct invoice_filter {
    const char *provider, *ocmw, *status; /* NULL: any */
    bool has_month;
    pdate month; /* its first day */
};
struct invoice_row {
    const char *id, *item, *csv;
};
typedef void (*invoice_rows_cb)(void *arg, enum pg_outcome o, const struct invoice_row *rows,
                                size_t n);
void db_invoice_list(struct db *db, const struct invoice_filter *f, const char *after, int limit,
                     invoice_rows_cb cb, void *arg);

enum payment_result {
    PAY_RECORDED,
    PAY_NOT_FOUND,
    PAY_OVER,      /* more than the accepted state share in total */
    PAY_DUPLICATE, /* that reference is recorded for the invoice */
};
typedef void (*payment_cb)(void *arg, enum pg_outcome o, enum payment_result p, const char *doc);
void db_payment_add(struct db *db, const char *invoice, const struct payment_input *p,
                    int64_t principal, payment_cb cb, void *arg);

/* The month's statement (ocmw NULL: the fund's), as JSON text. */
typedef void (*statement_cb)(void *arg, enum pg_outcome o, const char *doc);
void db_statement(struct db *db, pdate month, const char *ocmw, statement_cb cb, void *arg);

#endif
