/*
 * fuzz target: coverage_parse_question, lang_from_accept, and for a parsed
 * question coverage_evaluate against a fixed set of decisions, then
 * coverage_encode_answer in the three languages.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *decisions_json[] = {
    "{\"kind\":\"coverage\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-03-31\"},"
    "\"state_share\":{\"hospitalisation\":{\"insurance_pct\":100,\"patient_share_pct\":100},"
    "\"ambulatory_hospital\":{\"insurance_pct\":100,\"patient_share_pct\":100},"
    "\"other\":{\"insurance_pct\":100,\"patient_share_pct\":0}},\"covers\":["
    "{\"care_type\":\"general_practice\",\"period\":{\"start\":\"2026-10-01\",\"end\":"
    "\"2027-03-31\"},\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\","
    "\"supplements\":\"none\"}},"
    "{\"care_type\":\"pharmacy\",\"period\":{\"start\":\"2026-11-01\",\"end\":\"2026-11-30\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\",\"supplements\":"
    "\"none\"},\"designated_providers\":[\"10000000000\"]}]}",
    "{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\",\"death_date\":"
    "\"2026-11-20\"},\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-09-30\"}}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const pdate today = date_from_ymd(2026, 11, 23);
    struct coverage_question q;
    struct verrs e;

    /* the same bytes as an Accept-Language value */
    char *hdr = malloc(size + 1);
    if (hdr == NULL)
        return 0;
    memcpy(hdr, data, size);
    hdr[size] = '\0';
    enum lang l = lang_from_accept(hdr);
    free(hdr);
    if (l != LANG_EN && l != LANG_NL && l != LANG_FR)
        abort();

    enum parse_result r = coverage_parse_question((const char *)data, size, &q, &e);
    if (r == PARSE_INVALID && e.n == 0 && !e.truncated)
        abort();
    if (r != PARSE_OK)
        return 0;
    struct decision ds[2];
    for (size_t i = 0; i < 2; i++) {
        struct verrs de;
        if (decision_parse_input(decisions_json[i], strlen(decisions_json[i]), today, &ds[i],
                                 &de) != PARSE_OK)
            abort();
        snprintf(ds[i].id, sizeof ds[i].id, "D2026-0000000%zu", i);
        snprintf(ds[i].ocmw, sizeof ds[i].ocmw, "0212345668");
        ds[i].version = 1;
    }
    for (size_t n = 0; n <= 2; n++) {
        struct coverage_result res;
        coverage_evaluate(&q, n == 2 ? ds : ds + 1 - n, n, "10000000000", today, &res);
        if (res.reason >= RF__COUNT)
            abort();
        if (res.reason == RF_NONE && (res.decision == NULL || res.cover == NULL))
            abort();
        for (int lang = LANG_EN; lang <= LANG_FR; lang++) {
            char *s = coverage_encode_answer(&res, (enum lang)lang);
            if (s == NULL || s[0] != '{')
                abort();
            free(s);
        }
    }
    return 0;
}
