/*
 * output: what the client prints.
 *
 * stdout carries data only: in json format the server's body exactly as
 * received (plus a final newline when it has none); in table format aligned
 * `key  value` lines, or for lists one line per element under a header line.
 * Errors go to stderr, problem+json documents as
 * `medaid: <status> <code>: <detail>` followed by one line per errors[] entry.
 * Text that came from the server is printed with control characters replaced.
 */
#ifndef MEDAID_CLIENT_OUTPUT_H
#define MEDAID_CLIENT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "api.h"

struct cJSON;

enum output_format { OUT_JSON, OUT_TABLE, OUT_NDJSON, OUT_CSV };
bool output_format_from_name(const char *s, enum output_format *out);
const char *output_format_name(enum output_format f);

/* the body as received, then "\n" if it does not end with one; indented
 * (when it is JSON) after output_set_pretty(true), for a terminal */
void output_raw(FILE *out, const char *body, size_t len);
void output_set_pretty(bool on);
bool output_pretty(void);

/* table renderings */
void output_decision_table(FILE *out, const struct cJSON *decision);
void output_coverage_table(FILE *out, const struct cJSON *answer);
/* one line per version of a decision history ({"id", "versions": [...]}) */
void output_history_table(FILE *out, const struct cJSON *history);
/* one line per decision of a beneficiary ({"ssin", "decisions": [...]}) */
void output_decision_list_table(FILE *out, const struct cJSON *list);
/* one line per tariff line: a tariff line, an array of them, or an object
 * holding them as "tariffs" (or "lines") */
void output_tariff_table(FILE *out, const struct cJSON *doc);
/* a coverage question answered as of an earlier time (audit as-of) */
void output_as_of_table(FILE *out, const struct cJSON *answer);
/* `intact, N records in C chains; last_seq S, last_hash H` or
 * `broken at record SEQ (reason) in chain C` (audit verify) */
void output_verify_table(FILE *out, const struct cJSON *answer);

/*
 * The items of the audit lists, one at a time, so that a stream is
 * converted line by line: in csv, a header row then one row per item (RFC
 * 4180 quoting, null as an empty field, booleans true/false); in table,
 * fixed-width columns (a longer value pushes the rest of its line right).
 */
enum audit_list {
    AUDIT_CONSULTATIONS,
    AUDIT_DECISIONS,
    LIST_INVOICES,  /* invoice list: the columns of the server's CSV */
    STATEMENT_FUND, /* the fund's statement: a row per provider, then per OCMW */
    STATEMENT_OCMW, /* an OCMW's statement: a row per line */
};
void output_audit_header(FILE *out, enum output_format f, enum audit_list l);
void output_audit_row(FILE *out, enum output_format f, enum audit_list l, const struct cJSON *item);

/* The list of an answer (the answer when it is an array, else its first
 * member that is one) as ndjson (one compact item per line) or csv (a
 * header of the items' members in order of first appearance, strings as
 * they are, null empty, other values as compact JSON); false when there is
 * no list. */
bool output_list(FILE *out, enum output_format f, const struct cJSON *doc);

/* any JSON value as flattened `a.b[0].c  value` lines */
void output_generic_table(FILE *out, const struct cJSON *value);

/* stdout failed: say so on stderr, once (errno says why); returns EXIT_USAGE */
int output_error(void);
/* output_error() was called */
bool output_error_reported(void);

/* An answer that is not a success (status not 2xx), on stderr. */
void output_error_answer(const struct api_response *res);
/* A transport failure (not answered), on stderr. */
void output_transport_error(const struct api_response *res);

#endif
