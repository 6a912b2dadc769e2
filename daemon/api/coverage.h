/* h_coverage: the provider's question, POST /v1/coverage and /v1/coverage/batch. */
#ifndef MEDAID_H_COVERAGE_H
#define MEDAID_H_COVERAGE_H
#include "http/request.h"
void h_coverage(struct request *r);
void h_coverage_batch(struct request *r);
#endif
