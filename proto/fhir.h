/*
 * fhir: HL7 FHIR R4 at the edge of the coverage question (docs/fhir.md).
 * Pure: a CoverageEligibilityRequest becomes the internal question
 * (struct coverage_question, the same one POST /v1/coverage fills); the
 * recorded agreement answer (the /v1/coverage JSON, agreement member
 * included) becomes a CoverageEligibilityResponse; problems become
 * OperationOutcomes; and the CapabilityStatement of the endpoint.
 */
#ifndef MEDAID_PROTO_FHIR_H
#define MEDAID_PROTO_FHIR_H

#include <stdbool.h>
#include <stddef.h>

#include "coverage.h"
#include "problem.h"

/* The systems (docs/fhir.md "Code systems and identifiers"). */
#define FHIR_SSIN_SYSTEM      "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
#define FHIR_KBO_SYSTEM       "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/cbe"
#define FHIR_CARE_TYPE_SYSTEM "https://medaid.example/fhir/CodeSystem/care-type"
#define FHIR_NOMENCLATURE_SYSTEM                                                                   \
    "https://www.ehealth.fgov.be/standards/fhir/CodeSystem/nihdi-nomenclature"
#define FHIR_BENEFIT_SYSTEM   "https://medaid.example/fhir/CodeSystem/benefit"
#define FHIR_REFUSAL_SYSTEM   "https://medaid.example/fhir/CodeSystem/refusal"
#define FHIR_PROBLEM_SYSTEM   "https://medaid.example/fhir/CodeSystem/problem"
#define FHIR_AGREEMENT_SYSTEM "https://medaid.example/fhir/NamingSystem/agreement"
#define FHIR_DECISION_SYSTEM  "https://medaid.example/fhir/NamingSystem/decision"
#define FHIR_EXT_BASE         "https://medaid.example/fhir/StructureDefinition/"
#define FHIR_SUBMIT_DEFINITION                                                                     \
    "https://medaid.example/fhir/OperationDefinition/CoverageEligibilityRequest-submit"

/* What the response repeats of the request besides the question. */
struct fhir_request_meta {
    bool purpose_benefits, purpose_validation, purpose_discovery, purpose_auth;
    bool has_identifier; /* the request's identifier[0], repeated as response.request */
    char id_system[256];
    char id_value[128];
};

/*
 * Parse a CoverageEligibilityRequest (docs/fhir.md "Request"). PARSE_MALFORMED:
 * not a JSON object (400); PARSE_INVALID: errs holds each offence with its
 * FHIRPath ("CoverageEligibilityRequest.servicedDate") as the field (422).
 * An SSIN that fails its check digits is not an error: q->ssin_valid is
 * false, and the answer is the refusal invalid_ssin, as on /v1/coverage.
 */
enum parse_result fhir_parse_eligibility_request(const char *buf, size_t len,
                                                 struct coverage_question *q,
                                                 struct fhir_request_meta *meta,
                                                 struct verrs *errs);

/*
 * The CoverageEligibilityResponse for a recorded answer (the /v1/coverage
 * JSON text, with "agreement"), the question it answered and the request's
 * meta; created is the RFC 3339 moment of the response. Only the answer's
 * content is used for amounts, codes and the decision, so the response says
 * exactly what the agreement says. malloc'd, NULL when answer is not such
 * an answer.
 */
char *fhir_eligibility_response(const char *answer, size_t answer_len,
                                const struct coverage_question *q,
                                const struct fhir_request_meta *meta, const char *created);

/* The OperationOutcome of a problem: one issue per entry of errs (its field
 * is the issue's expression), or one issue without expression. malloc'd. */
char *fhir_operation_outcome(enum problem p, const char *detail, const struct verrs *errs,
                             enum lang l);

/* The FHIR issue type of a problem ("not-found", "throttled", ...). */
const char *fhir_issue_type(enum problem p);

/* The CapabilityStatement (date: YYYY-MM-DD, version: the daemon's). */
char *fhir_capability_statement(const char *date, const char *version);

/* Is this request path under the FHIR base (/fhir or /fhir/...)? */
bool fhir_path(const char *path);

#endif
