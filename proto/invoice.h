/*
 * invoice: a provider's invoice checked against its agreements, and the
 * fund's payments (DOMAIN.md "Invoices and settlement"). Pure: the daemon
 * reads the agreements' facts, this module decides each line.
 */
#ifndef MEDAID_PROTO_INVOICE_H
#define MEDAID_PROTO_INVOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coverage.h" /* enum lang */
#include "date.h"
#include "decision.h" /* enum parse_result */
#include "problem.h"

#define INVOICE_MAX_LINES     200
#define INVOICE_MAX_CENTS     1000000000000LL /* 10^10 euro: far above any line */
#define INVOICE_REFERENCE_MAX 64

/* Why a line is rejected, in the order the checks run (first failure wins). */
enum invoice_reject {
    IR_NONE = 0,
    IR_UNKNOWN_AGREEMENT,     /* no such agreement of this provider */
    IR_AGREEMENT_VOID,        /* voided */
    IR_AGREEMENT_NOT_COVERED, /* the answer was a refusal */
    IR_CODE_NOT_AGREED,       /* not an agreed item of that agreement */
    IR_QUANTITY_EXCEEDED,     /* accepted before + this line > the agreed quantity */
    IR_AMOUNT_EXCEEDED,       /* state or OCMW cents above the agreed pro rata */
    IR_INVOICE_TOO_LATE,      /* service date more than 24 months before the invoice */
    IR__COUNT
};
const char *invoice_reject_code(enum invoice_reject r);
const char *invoice_reject_message(enum invoice_reject r, enum lang l);
bool invoice_reject_from_code(const char *code, enum invoice_reject *out);

struct invoice_line {
    char agreement[16]; /* A2026-00000042 */
    char code[7];
    int64_t quantity;                               /* 1..999 */
    int64_t state_cents, ocmw_cents, patient_cents; /* claimed, 0..INVOICE_MAX_CENTS */
};

struct invoice_input {
    bool has_reference;
    char reference[INVOICE_REFERENCE_MAX + 1];
    int n_lines;
    struct invoice_line lines[INVOICE_MAX_LINES];
};

/*
 * Parse {"reference": "F-2026-17" (optional), "lines": [{"agreement",
 * "code", "quantity", "state_cents", "ocmw_cents", "patient_cents"}]}.
 * Errors (JSON path, code): lines required, 1..200 (too_many, required);
 * agreement an agreement number (invalid_agreement); code 6 digits
 * (invalid_code); quantity 1..999 and cents 0..INVOICE_MAX_CENTS
 * (out_of_range, not_integer, wrong_type); reference 1..64 visible ASCII
 * characters (invalid_reference); every field of a line required; unknown
 * and duplicate fields refused.
 */
enum parse_result invoice_parse(const char *buf, size_t len, struct invoice_input *out,
                                struct verrs *errs);

/* One agreed item of an agreement, with what was accepted of it before. */
struct agreed_item {
    char code[7];
    int64_t quantity;                /* agreed */
    int64_t state_cents, ocmw_cents; /* agreed for that quantity */
    int64_t billed;                  /* quantity accepted on earlier invoices */
};

#define INVOICE_MAX_ITEMS 64

/* What the registry knows of one agreement quoted on an invoice. */
struct agreement_facts {
    char number[16];
    bool found; /* an agreement of this provider */
    bool voided;
    bool covered;
    pdate service_date;
    int n_items;
    struct agreed_item items[INVOICE_MAX_ITEMS];
};

/* The most a claim may be for `billed` of `agreed_qty`: agreed_cents ×
 * billed ÷ agreed_qty, rounded down (0 when agreed_qty <= 0). */
int64_t invoice_pro_rata(int64_t agreed_cents, int64_t agreed_qty, int64_t billed);

/* The check of one line against its agreement (NULL: none known), given
 * the quantity of that item accepted before it (earlier invoices and
 * earlier lines of this one). */
enum invoice_reject invoice_check_line(const struct invoice_line *l,
                                       const struct agreement_facts *a, int64_t billed_before,
                                       pdate invoice_date);

/* The agreed item of a for code, or NULL. */
const struct agreed_item *invoice_item_of(const struct agreement_facts *a, const char *code);

/* Check every line in order: out[i] for in->lines[i]; each accepted line
 * counts for the lines after it. facts[0..n) are the agreements quoted
 * (any order; a number not among them is unknown). */
void invoice_check(const struct invoice_input *in, const struct agreement_facts *facts, size_t n,
                   pdate invoice_date, enum invoice_reject *out);

/* "accepted" (every line), "rejected" (none) or "partial". */
const char *invoice_status(const enum invoice_reject *out, int n_lines);

/*
 * The answer WITHOUT the invoice number (the database prepends it):
 * {"provider","invoice_date","reference"(when given),"status",
 *  "lines":[{"line","agreement","code","quantity","state_cents","ocmw_cents",
 *            "patient_cents","accepted":true} or the same with
 *            "accepted":false,"rejected":{"code","message"}],
 *  "totals":{"lines","accepted_lines","rejected_lines","state_cents",
 *            "ocmw_cents","patient_cents"}} (totals over the accepted lines).
 * malloc'd, NULL on allocation failure.
 */
char *invoice_encode_answer(const struct invoice_input *in, const enum invoice_reject *out,
                            const char *provider, pdate invoice_date, enum lang l);

/* A payment: {"amount_cents": 1..2^53-1, "date": "YYYY-MM-DD" (not after
 * today), "reference": 1..64 visible ASCII}. */
struct payment_input {
    int64_t amount_cents;
    pdate date;
    char reference[INVOICE_REFERENCE_MAX + 1];
};
enum parse_result payment_parse(const char *buf, size_t len, pdate today, struct payment_input *out,
                                struct verrs *errs);

/* "YYYY-MM" -> the first day of that month; false when not a month. */
bool month_parse(const char *s, pdate *first);

#endif
