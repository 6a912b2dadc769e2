/* h_fhir: HL7 FHIR R4 (docs/fhir.md): POST /fhir/CoverageEligibilityRequest/$submit
 * (provider) and GET /fhir/metadata (any role). */
#ifndef MEDAID_H_FHIR_H
#define MEDAID_H_FHIR_H
#include "http/request.h"
void h_fhir_submit(struct request *r);
void h_fhir_metadata(struct request *r);
#endif
