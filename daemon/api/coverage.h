/* h_coverage: the provider's question, POST /v1/coverage and /v1/coverage/batch. */
#ifndef MEDAID_H_COVERAGE_H
#define MEDAID_H_COVERAGE_H
#include "http/request.h"
void h_coverage(struct request *r);
void h_coverage_batch(struct request *r);

/* A question parsed by another front end (api/fhir.c): answered and recorded
 * exactly as POST /v1/coverage answers and records it; done gets the
 * recorded answer text (taken over, with its "agreement") or, when none
 * was recorded, NULL and the problem a /v1/coverage question would get. */
struct coverage_question;
typedef void (*coverage_done_fn)(struct request *r, char *answer, enum problem p,
                                 const char *detail, void *arg);
void coverage_ask(struct request *r, const struct coverage_question *q, coverage_done_fn done,
                  void *arg);
#endif
