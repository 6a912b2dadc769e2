/*
 * fuzz target: fhir_parse_eligibility_request. A refusal always names an
 * element; a parsed request gives a CoverageEligibilityResponse for a fixed
 * covered answer (items, a refused code, a cap) and a refused one, and an
 * OperationOutcome for its errors: each is JSON, valid UTF-8, and repeats
 * the agreement number as preAuthRef.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fhir.h"
#include "jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const answers[] = {
    "{\"agreement\":\"A2026-00000001\",\"covered\":true,\"decision\":{\"id\":\"D2026-00000001\","
    "\"version\":1,\"ocmw\":\"0212345668\",\"period\":{\"start\":\"2026-11-13\",\"end\":"
    "\"2027-05-12\"}},\"cover\":{\"care_type\":\"general_practice\",\"period\":{\"start\":"
    "\"2026-11-13\",\"end\":\"2027-05-12\"},\"prescription_required\":false,\"convention\":"
    "false,\"urgent_attestation_required\":true},\"items\":[{\"code\":\"101076\",\"quantity\":1,"
    "\"fee_cents\":3000,\"state_cents\":2400,\"ocmw_cents\":600,\"patient_cents\":0,"
    "\"supplements_cents\":0},{\"code\":\"999999\",\"quantity\":1,\"refused\":{\"code\":"
    "\"unknown_code\",\"message\":\"x\"}}],\"totals\":{\"fee_cents\":3000,\"state_cents\":2400,"
    "\"ocmw_cents\":600,\"patient_cents\":0},\"caps\":{\"patient_share\":{\"cap_cents\":600,"
    "\"used_cents\":0,\"granted_cents\":600,\"remaining_cents\":0}}}",
    "{\"agreement\":\"A2026-00000002\",\"covered\":false,\"reason\":{\"code\":\"no_decision\","
    "\"message\":\"none\"}}",
};

static void check_json(char *s)
{
    if (s == NULL || !jx_utf8_valid(s, strlen(s)))
        abort();
    cJSON *o = cJSON_Parse(s);
    if (o == NULL)
        abort();
    cJSON_Delete(o);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct coverage_question q;
    struct fhir_request_meta meta;
    struct verrs e;
    verrs_init(&e);
    enum parse_result r = fhir_parse_eligibility_request((const char *)data, size, &q, &meta, &e);
    if (r == PARSE_INVALID) {
        if (e.n == 0)
            abort();
        check_json(fhir_operation_outcome(PROBLEM_VALIDATION_FAILED, NULL, &e, LANG_FR));
        return 0;
    }
    if (r != PARSE_OK)
        return 0;
    if (q.n_items < 0 || q.n_items > COVERAGE_MAX_ITEMS)
        abort();
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        char *s = fhir_eligibility_response(answers[i], strlen(answers[i]), &q, &meta,
                                            "2026-11-20T10:00:00Z");
        if (s == NULL || strstr(s, "\"preAuthRef\":\"A2026-0000000") == NULL)
            abort();
        check_json(s);
    }
    return 0;
}
