/* h_decision: recording and reading decisions (POST/GET /v1/decisions). */
#ifndef MEDAID_H_DECISION_H
#define MEDAID_H_DECISION_H
#include <libpq-fe.h>

#include "../proto/decision.h"
#include "request.h"
void h_decision_create(struct request *r);
void h_decision_get(struct request *r);
/* Fill d from row `row` of (id, version, status, ocmw, body, recorded_at). */
bool h_decision_from_row(const PGresult *res, int row, struct decision *d);
#endif
