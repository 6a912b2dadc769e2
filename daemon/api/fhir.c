/*
 * h_fhir: the FHIR face of the coverage question. The request is
 * translated into the internal question (proto/fhir.c), answered and
 * recorded by the coverage path (api/coverage.c: the same rules, the same
 * agreement, the same group commit), and the recorded answer is translated
 * into a CoverageEligibilityResponse: the agreement stays the /v1/coverage
 * text (GET /v1/agreements/{n} returns it), the FHIR resource is derived
 * from it. Problems under /fhir are OperationOutcomes (http/request.c).
 */
#include "api/fhir.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/coverage.h"
#include "base/mem.h"
#include "proto/date.h"
#include "proto/fhir.h"

#ifndef MEDAID_VERSION
#define MEDAID_VERSION "unknown"
#endif

struct fhir_ask {
    struct coverage_question q;
    struct fhir_request_meta meta;
};

static void now_utc(char out[PTIMESTAMP_STRLEN_MAX + 1])
{
    timestamp_format_utc((int64_t)time(NULL), 0, 0, out);
}

static void answered(struct request *r, char *answer, enum problem p, const char *detail, void *arg)
{
    struct fhir_ask *a = arg;
    if (!answer) {
        free(a);
        request_problem(r, p, detail, NULL, NULL);
        return;
    }
    char created[PTIMESTAMP_STRLEN_MAX + 1];
    now_utc(created);
    char *doc = fhir_eligibility_response(answer, strlen(answer), &a->q, &a->meta, created);
    free(answer);
    free(a);
    if (!doc) {
        request_problem(r, PROBLEM_INTERNAL_ERROR, "the recorded answer could not be translated",
                        NULL, NULL);
        return;
    }
    request_respond(r, 200, "application/fhir+json", doc, strlen(doc));
}

void h_fhir_submit(struct request *r)
{
    struct fhir_ask *a = xcalloc(1, sizeof *a);
    struct verrs errs;
    verrs_init(&errs);
    size_t len;
    const char *body = request_body(r, &len);
    switch (fhir_parse_eligibility_request(body, len, &a->q, &a->meta, &errs)) {
    case PARSE_MALFORMED:
        free(a);
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body is not a JSON object", NULL, NULL);
        return;
    case PARSE_INVALID:
        free(a);
        request_problem(r, PROBLEM_VALIDATION_FAILED, "not a valid CoverageEligibilityRequest",
                        &errs, NULL);
        return;
    case PARSE_OK:
        break;
    }
    coverage_ask(r, &a->q, answered, a);
}

void h_fhir_metadata(struct request *r)
{
    char now[PTIMESTAMP_STRLEN_MAX + 1];
    now_utc(now);
    now[10] = '\0'; /* the date */
    char *doc = fhir_capability_statement(now, MEDAID_VERSION);
    ASSERT(doc != NULL);
    request_respond(r, 200, "application/fhir+json", doc, strlen(doc));
}
