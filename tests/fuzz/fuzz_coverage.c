/*
 * fuzz target: coverage_parse_question, lang_from_accept, and for a parsed
 * question coverage_evaluate against a fixed set of decisions, coverage_split
 * with a few fixed tariffs (and several amounts already used this month),
 * then coverage_encode_answer in the three languages. Every item split must
 * sum exactly: state + OCMW + patient == fee + supplements, no part negative.
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
    "\"ambulatory_hospital\":{\"insurance_pct\":50,\"patient_share_pct\":0},"
    "\"other\":{\"insurance_pct\":50,\"patient_share_pct\":50}},\"covers\":["
    "{\"care_type\":\"general_practice\",\"period\":{\"start\":\"2026-10-01\",\"end\":"
    "\"2027-03-31\"},\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\","
    "\"supplements\":\"none\"}},"
    "{\"care_type\":\"pharmacy\",\"period\":{\"start\":\"2026-11-01\",\"end\":\"2026-11-30\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\",\"supplements\":"
    "\"none\"},\"designated_providers\":[\"10000000000\"]},"
    "{\"care_type\":\"paramedical\",\"period\":{\"start\":\"2026-10-01\",\"end\":"
    "\"2027-03-31\"},\"ocmw_pays\":{\"insurance_part\":\"partial\",\"patient_share\":"
    "\"partial\",\"supplements\":\"full\"},\"patient_share_cap_cents\":1001},"
    "{\"care_type\":\"hospitalisation\",\"period\":{\"start\":\"2026-10-01\",\"end\":"
    "\"2027-03-31\"},\"ocmw_pays\":{\"insurance_part\":\"full\",\"patient_share\":"
    "\"partial\",\"supplements\":\"partial\"},\"patient_share_cap_cents\":333,"
    "\"supplements_cap_cents\":777,\"allowed_supplement_types\":[\"room\",\"tv\"]},"
    "{\"care_type\":\"ambulatory_hospital\",\"period\":{\"start\":\"2026-10-01\","
    "\"end\":\"2027-03-31\"},\"ocmw_pays\":{\"insurance_part\":\"partial\","
    "\"patient_share\":\"none\",\"supplements\":\"none\"}}]}",
    "{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\",\"death_date\":"
    "\"2026-11-20\"},\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-09-30\"}}",
};

static struct tariff tar(const char *code, pdate start, pdate end, int64_t fee, int64_t share,
                         unsigned types)
{
    struct tariff t;
    memset(&t, 0, sizeof t);
    memcpy(t.code, code, 7);
    t.period.start = start;
    t.period.end = end;
    t.fee_cents = fee;
    t.patient_share_cents = share;
    t.care_types = types;
    return t;
}

static void check_split(const struct split_result *x)
{
    if (x->state_cents < 0 || x->ocmw_cents < 0 || x->patient_cents < 0 ||
        x->ocmw_patient_share_cents < 0 || x->ocmw_supplements_cents < 0 ||
        x->ocmw_patient_share_cents + x->ocmw_supplements_cents > x->ocmw_cents ||
        x->state_cents + x->ocmw_cents + x->patient_cents != x->fee_cents + x->supplements_cents)
        abort();
}

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
    const pdate y0 = date_from_ymd(2026, 1, 1), y1 = date_from_ymd(2026, 12, 31);
    const struct tariff tariffs[] = {
        tar("101076", y0, y1, 3001, 601, 0xffu),
        tar("101076", date_from_ymd(2027, 1, 1), date_from_ymd(2027, 12, 31), 3101, 0, 0xffu),
        tar("102771", y0, y1, 1000000000, 999999999, 1u << CT_HOSPITALISATION),
        tar("000001", y0, y1, 1, 1, 0xffu),
        tar("000000", y0, y1, 0, 0, 0xffu),
        tar("333333", y0, date_from_ymd(2026, 11, 15), 3, 1, 1u << CT_GENERAL_PRACTICE),
        tar("777777", y0, y1, 777, 0, 1u << CT_PARAMEDICAL | 1u << CT_AMBULATORY_HOSPITAL),
    };
    const size_t nt = sizeof tariffs / sizeof tariffs[0];
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
        static const int64_t used[] = {0, 1, 1000, 100000};
        for (size_t u = 0; u < sizeof used / sizeof used[0]; u++) {
            struct coverage_result sr = res;
            coverage_split(&q, tariffs, nt, used[u], &sr);
            if (sr.reason != RF_NONE) {
                if (sr.n_items != 0)
                    abort();
            } else {
                if (sr.n_items != q.n_items)
                    abort();
                struct split_result sum = {0};
                for (int i = 0; i < sr.n_items; i++) {
                    const struct item_answer *a = &sr.items[i];
                    if (a->refused)
                        continue;
                    check_split(&a->split);
                    sum.fee_cents += a->split.fee_cents;
                    sum.supplements_cents += a->split.supplements_cents;
                    sum.state_cents += a->split.state_cents;
                    sum.ocmw_cents += a->split.ocmw_cents;
                    sum.patient_cents += a->split.patient_cents;
                    sum.ocmw_patient_share_cents += a->split.ocmw_patient_share_cents;
                    sum.ocmw_supplements_cents += a->split.ocmw_supplements_cents;
                }
                check_split(&sr.totals);
                if (memcmp(&sum, &sr.totals, sizeof sum) != 0)
                    abort();
                const struct cover *cv = sr.cover;
                if (cv->patient_share == PAYS_PARTIAL &&
                    sum.ocmw_patient_share_cents > (cv->patient_share_cap_cents > used[u]
                                                        ? cv->patient_share_cap_cents - used[u]
                                                        : 0))
                    abort();
                if (cv->supplements == PAYS_PARTIAL &&
                    sum.ocmw_supplements_cents > cv->supplements_cap_cents)
                    abort();
            }
            for (int lang = LANG_EN; lang <= LANG_FR; lang++) {
                char *s = coverage_encode_answer(&q, &sr, (enum lang)lang);
                if (s == NULL || s[0] != '{')
                    abort();
                free(s);
            }
        }
    }
    return 0;
}
