/* h_coverage: the provider's question, POST /v1/coverage and /v1/coverage/batch. */
#ifndef MEDAID_H_COVERAGE_H
#define MEDAID_H_COVERAGE_H
#include <libpq-fe.h>

#include "proto/decision.h"
#include "http/request.h"
void h_coverage(struct request *r);
/* Decisions from lookup rows: columns as h_decision_from_row, then the
 * current death date at death_col and the status before a stop at
 * stop_col. *out is malloc'd (NULL when there is none). False when a
 * stored decision does not parse (logged). */
bool h_coverage_rows(struct request *r, const PGresult *res, int death_col, int stop_col,
                     struct decision **out, size_t *n_out);
void h_coverage_batch(struct request *r);
#endif
