/* unit tests: proto/fhir (FHIR R4 CoverageEligibilityRequest/Response, OperationOutcome) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fhir.h"
#include "jsonx.h"
#include "tap.h"

#define PAT    "{\"identifier\":{\"system\":\"" FHIR_SSIN_SYSTEM "\",\"value\":\"85073003328\"}}"
#define CAT(t) "{\"coding\":[{\"system\":\"" FHIR_CARE_TYPE_SYSTEM "\",\"code\":\"" t "\"}]}"
#define POS(c) "{\"coding\":[{\"system\":\"" FHIR_NOMENCLATURE_SYSTEM "\",\"code\":\"" c "\"}]}"
#define HEAD                                                                                       \
    "{\"resourceType\":\"CoverageEligibilityRequest\",\"status\":\"active\","                      \
    "\"purpose\":[\"benefits\"],\"created\":\"2026-11-20T10:00:00Z\",\"insurer\":{},"

static struct coverage_question q;
static struct fhir_request_meta meta;
static struct verrs e;

static enum parse_result parse(const char *s)
{
    verrs_init(&e);
    return fhir_parse_eligibility_request(s, strlen(s), &q, &meta, &e);
}

static bool has_field(const char *field)
{
    for (int i = 0; i < e.n; i++)
        if (strcmp(e.items[i].field, field) == 0)
            return true;
    return false;
}

static void invalid(const char *s, const char *field, const char *what)
{
    enum parse_result r = parse(s);
    ok(r == PARSE_INVALID && has_field(field), "%s: 422 at %s (got %d, %s)", what, field, r,
       e.n ? e.items[0].field : "no error");
}

static const cJSON *path(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static void requests(void)
{
    const char *full =
        HEAD "\"patient\":" PAT ",\"servicedDate\":\"2026-11-20\","
             "\"identifier\":[{\"system\":\"urn:his\",\"value\":\"r-1\"}],"
             "\"item\":[{\"category\":" CAT("general_practice") ",\"productOrService\":" POS(
                 "101076") "},{\"category\":" CAT("general_practice") ",\"productOrService\""
                                                                      ":" POS("101032") ",\"qua"
                                                                                        "ntity"
                                                                                        "\":{"
                                                                                        "\"valu"
                                                                                        "e\":2}"
                                                                                        "}]}";
    ok(parse(full) == PARSE_OK && q.ssin_valid && strcmp(q.ssin, "85073003328") == 0 &&
           q.care_type == CT_GENERAL_PRACTICE && q.n_items == 2 &&
           strcmp(q.items[0].code, "101076") == 0 && q.items[0].quantity == 1 &&
           strcmp(q.items[1].code, "101032") == 0 && q.items[1].quantity == 2 &&
           q.service_date == date_from_ymd(2026, 11, 20),
       "a full request becomes the internal question");
    ok(meta.purpose_benefits && !meta.purpose_validation && meta.has_identifier &&
           strcmp(meta.id_value, "r-1") == 0 && strcmp(meta.id_system, "urn:his") == 0,
       "purposes and the request identifier are kept");

    const char *contained =
        HEAD "\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"p\",\"identifier\":[{"
             "\"system\":\"urn:x\",\"value\":\"1\"},{\"system\":\"" FHIR_SSIN_SYSTEM
             "\",\"value\":\"17073003384\"}]}],\"patient\":{\"reference\":\"#p\"},"
             "\"servicedDate\":\"2026-11-20\",\"item\":[{\"category\":" CAT("pharmacy") "}]}";
    ok(parse(contained) == PARSE_OK && strcmp(q.ssin, "17073003384") == 0 && q.ssin_valid &&
           q.care_type == CT_PHARMACY && q.n_items == 0,
       "a contained Patient's SSIN; a category-only item asks without codes");

    const char *bad_ssin = HEAD "\"patient\":{\"identifier\":{\"system\":\"" FHIR_SSIN_SYSTEM
                                "\",\"value\":\"8507300332\\u00e9\"}},\"servicedDate\":"
                                "\"2026-11-20\",\"item\":[{\"category\":" CAT("pharmacy") "}]}";
    ok(parse(bad_ssin) == PARSE_OK && !q.ssin_valid && strcmp(q.ssin, "8507300332?") == 0,
       "an invalid SSIN is an answer (invalid_ssin), kept as digits or '?'");

    invalid("{\"resourceType\":\"Patient\"}", "resourceType", "another resource");
    invalid(HEAD "\"patient\":" PAT ",\"item\":[{\"category\":" CAT("pharmacy") "}]}",
            "CoverageEligibilityRequest.servicedDate", "no servicedDate");
    invalid(HEAD "\"patient\":" PAT
                 ",\"servicedDate\":\"2026-02-30\",\"item\":[{\"category\":" CAT("pharmacy") "}]}",
            "CoverageEligibilityRequest.servicedDate", "a servicedDate that is no date");
    invalid(HEAD "\"patient\":" PAT
                 ",\"servicedDate\":\"2026-11-20\",\"item\":[{\"category\":" CAT("dentistry") "}]}",
            "CoverageEligibilityRequest.item[0].category", "an unknown care type");
    invalid(HEAD "\"patient\":" PAT ",\"servicedDate\":\"2026-11-20\",\"item\":[{\"category\":" CAT(
                "pharmacy") "},{\"category\":" CAT("paramedical") "}]}",
            "CoverageEligibilityRequest.item[1].category", "two care types");
    invalid(
        HEAD "\"patient\":" PAT ",\"servicedDate\":\"2026-11-20\",\"item\":[{\"category\":" CAT(
            "pharmacy") ",\"productOrService\":" POS("101076") ",\"quantity\":{\"value\":1000}}]}",
        "CoverageEligibilityRequest.item[0].quantity.value", "a quantity above 999");
    invalid(HEAD "\"patient\":" PAT ",\"servicedDate\":\"2026-11-20\",\"item\":[{\"category\":" CAT(
                "pharmacy") ",\"productOrService\":" POS("1010") "}]}",
            "CoverageEligibilityRequest.item[0].productOrService", "a code of 4 digits");
    invalid(HEAD "\"patient\":{\"identifier\":{\"system\":\"urn:x\",\"value\":\"1\"}},"
                 "\"servicedDate\":\"2026-11-20\",\"item\":[{\"category\":" CAT("pharmacy") "}]}",
            "CoverageEligibilityRequest.patient.identifier", "no SSIN identifier");
    invalid(HEAD "\"patient\":" PAT ",\"servicedDate\":\"2026-11-20\"}",
            "CoverageEligibilityRequest.item", "no item");
    invalid(HEAD "\"patient\":" PAT ",\"servicedDate\":\"2026-11-20\",\"modifierExtension\":[],"
                 "\"item\":[{\"category\":" CAT("pharmacy") "}]}",
            "CoverageEligibilityRequest.modifierExtension", "a modifier extension");
    ok(parse("{\"resourceType\":") == PARSE_MALFORMED && parse("[1]") == PARSE_MALFORMED,
       "not a JSON object: malformed (400)");
}

static cJSON *respond(const char *answer)
{
    char *s = fhir_eligibility_response(answer, strlen(answer), &q, &meta, "2026-11-20T10:00:00Z");
    cJSON *o = s ? cJSON_Parse(s) : NULL;
    free(s);
    return o;
}

static double benefit(const cJSON *item, const char *type, const char *money)
{
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(item, "benefit"))
    {
        const cJSON *c = cJSON_GetArrayItem(path(path(b, "type", NULL), "coding", NULL), 0);
        if (strcmp(cJSON_GetStringValue(path(c, "code", NULL)), type) == 0)
            return cJSON_GetNumberValue(path(path(b, money, NULL), "value", NULL));
    }
    return -1;
}

static void responses(void)
{
    parse(HEAD "\"patient\":" PAT ",\"servicedDate\":\"2026-11-20\",\"item\":[{\"category\":" CAT(
        "general_practice") "}]}");
    const char *covered =
        "{\"agreement\":\"A2026-00000001\",\"covered\":true,\"decision\":{\"id\":\"D2026-"
        "00000001\",\"version\":2,\"ocmw\":\"0212345668\",\"period\":{\"start\":\"2026-11-13\","
        "\"end\":\"2027-05-12\"}},\"cover\":{\"care_type\":\"general_practice\",\"period\":{"
        "\"start\":\"2026-11-13\",\"end\":\"2027-05-12\"},\"prescription_required\":false,"
        "\"convention\":true,\"urgent_attestation_required\":false},\"items\":[{\"code\":"
        "\"101032\",\"quantity\":2,\"fee_cents\":9024,\"state_cents\":7222,\"ocmw_cents\":1400,"
        "\"patient_cents\":402},{\"code\":\"999999\",\"quantity\":1,\"refused\":{\"code\":"
        "\"unknown_code\",\"message\":\"No tariff.\"}}],\"totals\":{\"fee_cents\":9024,"
        "\"state_cents\":7222,\"ocmw_cents\":1400,\"patient_cents\":402},\"caps\":{"
        "\"patient_share\":{\"cap_cents\":2000,\"used_cents\":600,\"granted_cents\":1400,"
        "\"remaining_cents\":0}}}";
    cJSON *o = respond(covered);
    const cJSON *ins = cJSON_GetArrayItem(path(o, "insurance", NULL), 0);
    const cJSON *items = path(ins, "item", NULL);
    ok(o && strcmp(cJSON_GetStringValue(path(o, "preAuthRef", NULL)), "A2026-00000001") == 0 &&
           strcmp(cJSON_GetStringValue(path(o, "outcome", NULL)), "complete") == 0 &&
           cJSON_IsTrue(path(ins, "inforce", NULL)) &&
           strcmp(cJSON_GetStringValue(path(o, "servicedDate", NULL)), "2026-11-20") == 0,
       "covered: preAuthRef = agreement, outcome complete, inforce");
    const cJSON *i0 = cJSON_GetArrayItem(items, 0), *i1 = cJSON_GetArrayItem(items, 1);
    ok(benefit(i0, "fee", "allowedMoney") == 90.24 &&
           benefit(i0, "state", "allowedMoney") == 72.22 &&
           benefit(i0, "ocmw", "allowedMoney") == 14.0 &&
           benefit(i0, "patient", "allowedMoney") == 4.02,
       "the split as allowedMoney in EUR");
    ok(cJSON_IsTrue(path(i1, "excluded", NULL)) && path(i1, "benefit", NULL) == NULL,
       "a refused code is excluded, without amounts");
    const cJSON *cap = cJSON_GetArrayItem(items, 3);
    ok(cJSON_GetArraySize(items) == 4 &&
           strcmp(cJSON_GetStringValue(path(cap, "name", NULL)), "patient_share_cap") == 0 &&
           benefit(cap, "cap", "allowedMoney") == 20.0 && benefit(cap, "cap", "usedMoney") == 6.0 &&
           benefit(cap, "granted", "usedMoney") == 14.0 &&
           benefit(cap, "remaining", "allowedMoney") == 0.0,
       "the monthly cap: cap, used, granted, remaining");
    ok(strcmp(cJSON_GetStringValue(
                  path(path(path(o, "insurer", NULL), "identifier", NULL), "value", NULL)),
              "0212345668") == 0,
       "the insurer is the decision's OCMW");
    cJSON_Delete(o);

    o = respond("{\"agreement\":\"A2026-00000003\",\"covered\":false,\"reason\":{\"code\":"
                "\"no_decision\",\"message\":\"No decision.\"}}");
    const cJSON *err = cJSON_GetArrayItem(path(o, "error", NULL), 0);
    ok(o && strcmp(cJSON_GetStringValue(path(o, "outcome", NULL)), "error") == 0 &&
           cJSON_IsFalse(
               path(cJSON_GetArrayItem(path(o, "insurance", NULL), 0), "inforce", NULL)) &&
           strcmp(cJSON_GetStringValue(
                      path(cJSON_GetArrayItem(path(path(err, "code", NULL), "coding", NULL), 0),
                           "code", NULL)),
                  "no_decision") == 0,
       "refused: outcome error, inforce false, the reason in error[]");
    cJSON_Delete(o);
    ok(fhir_eligibility_response("{}", 2, &q, &meta, "x") == NULL &&
           fhir_eligibility_response("nope", 4, &q, &meta, "x") == NULL,
       "not an answer: NULL");
}

static void outcomes(void)
{
    struct verrs v;
    verrs_init(&v);
    verrs_add(&v, "CoverageEligibilityRequest.servicedDate", "required",
              "servicedDate is required");
    char *s = fhir_operation_outcome(PROBLEM_VALIDATION_FAILED, "bad", &v, LANG_EN);
    cJSON *o = cJSON_Parse(s);
    const cJSON *is = cJSON_GetArrayItem(path(o, "issue", NULL), 0);
    ok(o && strcmp(cJSON_GetStringValue(path(o, "resourceType", NULL)), "OperationOutcome") == 0 &&
           strcmp(cJSON_GetStringValue(path(is, "code", NULL)), "required") == 0 &&
           strcmp(cJSON_GetStringValue(cJSON_GetArrayItem(path(is, "expression", NULL), 0)),
                  "CoverageEligibilityRequest.servicedDate") == 0,
       "an OperationOutcome names the element");
    cJSON_Delete(o);
    free(s);
    ok(strcmp(fhir_issue_type(PROBLEM_NOT_FOUND), "not-found") == 0 &&
           strcmp(fhir_issue_type(PROBLEM_RATE_LIMITED), "throttled") == 0 &&
           strcmp(fhir_issue_type(PROBLEM_FORBIDDEN), "forbidden") == 0 &&
           strcmp(fhir_issue_type(PROBLEM_DATABASE_TIMEOUT), "transient") == 0,
       "issue types of the general problems");
    s = fhir_capability_statement("2026-11-20", "0.1.0");
    o = cJSON_Parse(s);
    ok(o && strcmp(cJSON_GetStringValue(path(o, "fhirVersion", NULL)), "4.0.1") == 0,
       "the CapabilityStatement says 4.0.1");
    cJSON_Delete(o);
    free(s);
    ok(fhir_path("/fhir/metadata") && fhir_path("/fhir") && !fhir_path("/fhirx") &&
           !fhir_path("/v1/coverage") && !fhir_path(NULL),
       "fhir_path");
}

int main(void)
{
    requests();
    responses();
    outcomes();
    return done_testing();
}
