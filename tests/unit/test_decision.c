/* unit tests: proto/decision (every field rule, boundaries on both sides) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "decision.h"
#include "fixtures.h"
#include "tap.h"

#define TODAY "2026-09-24"

static pdate today;

static const char *base_json =
    "{\"kind\":\"coverage\","
    "\"beneficiary\":{\"ssin\":\"85073003328\",\"death_date\":null},"
    "\"period\":{\"start\":\"2026-09-01\",\"end\":\"2027-02-28\"},"
    "\"reference\":\"2026/1234\",\"urgent_attestation_required\":true,"
    "\"state_share\":{\"hospitalisation\":{\"insurance_pct\":100,\"patient_share_pct\":100},"
    "\"ambulatory_hospital\":{\"insurance_pct\":100,\"patient_share_pct\":50},"
    "\"other\":{\"insurance_pct\":100,\"patient_share_pct\":0}},"
    "\"covers\":["
    "{\"care_type\":\"general_practice\","
    "\"period\":{\"start\":\"2026-09-01\",\"end\":\"2027-02-28\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"partial\",\"supplements\":"
    "\"none\"},\"patient_share_cap_cents\":5000,\"prescription_required\":false,"
    "\"convention\":false,\"designated_providers\":[]},"
    "{\"care_type\":\"hospitalisation\","
    "\"period\":{\"start\":\"2026-09-01\",\"end\":\"2027-02-28\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"full\",\"patient_share\":\"full\",\"supplements\":"
    "\"partial\"},\"supplements_cap_cents\":20000,\"allowed_supplement_types\":[\"room\","
    "\"fees\"],\"prescription_required\":true,\"convention\":true,"
    "\"designated_providers\":[\"71012345678\"]},"
    "{\"care_type\":\"ambulatory_hospital\","
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2026-12-31\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\",\"supplements\":"
    "\"none\"}},"
    "{\"care_type\":\"medical_transport\","
    "\"period\":{\"start\":\"2026-09-01\",\"end\":\"2027-02-28\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"full\",\"patient_share\":\"full\",\"supplements\":"
    "\"full\"},\"designated_providers\":[\"0212345668\",\"10000000000\"]}"
    "]}";

static const char *principle_json =
    "{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
    "\"period\":{\"start\":\"2026-09-24\",\"end\":\"2027-09-23\"}}";

static struct decision dec;
static struct verrs errs;

/* the documents are edited with doc_at/doc_set/doc_del/doc_str/doc_raw (fixtures.h) */

static cJSON *base(void)
{
    return cJSON_Parse(base_json);
}

static cJSON *principle(void)
{
    return cJSON_Parse(principle_json);
}

/* ---- checks ------------------------------------------------------------------ */

static enum parse_result run_text(const char *text, size_t len)
{
    return decision_parse_input(text, len, today, &dec, &errs);
}

static enum parse_result run(cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    enum parse_result r = run_text(text, strlen(text));
    free(text);
    cJSON_Delete(doc);
    return r;
}

static void dump_errs(void)
{
    for (int i = 0; i < errs.n; i++)
        diag("  %s: %s (%s)", errs.items[i].field, errs.items[i].code, errs.items[i].message);
}

static bool has_err(const char *field, const char *code)
{
    for (int i = 0; i < errs.n; i++)
        if (strcmp(errs.items[i].field, field) == 0 && strcmp(errs.items[i].code, code) == 0)
            return true;
    return false;
}

static void expect_ok(cJSON *doc, const char *name)
{
    enum parse_result r = run(doc);
    if (!ok(r == PARSE_OK && errs.n == 0, "accepted: %s", name))
        dump_errs();
}

static void expect_err(cJSON *doc, const char *field, const char *code, const char *name)
{
    enum parse_result r = run(doc);
    if (!ok(r == PARSE_INVALID && has_err(field, code), "refused %s at '%s': %s", code, field,
            name))
        dump_errs();
}

static void expect_text_err(const char *text, const char *field, const char *code, const char *name)
{
    enum parse_result r = run_text(text, strlen(text));
    if (!ok(r == PARSE_INVALID && has_err(field, code), "refused %s at '%s': %s", code, field,
            name))
        dump_errs();
}

static void expect_malformed(const char *text, size_t len, const char *name)
{
    is_int(run_text(text, len), PARSE_MALFORMED, "malformed: %s", name);
}

/* encode, parse_stored, encode again: identical text */
static void round_trip(const struct decision *d, bool meta, const char *name)
{
    char *a = decision_encode(d, meta);
    struct decision back;
    bool parsed = a && decision_parse_stored(a, strlen(a), &back);
    char *b = parsed ? decision_encode(&back, meta) : NULL;
    if (!is_str(b, a, "round trip (%s meta): %s", meta ? "with" : "without", name))
        diag("first: %s", a ? a : "(null)");
    if (parsed && !meta) {
        struct decision d2;
        memcpy(&d2, d, sizeof d2);
        d2.has_meta = false;
        memset(d2.id, 0, sizeof d2.id);
        d2.version = 0;
        d2.status = 0;
        memset(d2.ocmw, 0, sizeof d2.ocmw);
        memset(d2.recorded_at, 0, sizeof d2.recorded_at);
        ok(memcmp(&d2, &back, sizeof back) == 0, "round trip struct identical: %s", name);
    }
    free(a);
    free(b);
}

static void test_accepts(void)
{
    expect_ok(base(), "the base coverage decision");
    is_int(dec.kind, DK_COVERAGE, "kind coverage");
    is_str(dec.ssin, "85073003328", "ssin");
    ok(!dec.has_death_date, "no death date");
    is_str(dec.reference, "2026/1234", "reference");
    ok(dec.urgent_attestation_required, "urgent attestation");
    is_int(dec.state_share[SD_AMBULATORY_HOSPITAL].patient_share_pct, 50, "state share 50");
    is_int(dec.n_covers, 4, "four covers");
    is_int(dec.covers[0].patient_share_cap_cents, 5000, "patient share cap");
    ok(dec.covers[0].has_patient_share_cap, "has patient share cap");
    is_int(dec.covers[1].supplements_cap_cents, 20000, "supplements cap");
    is_int(dec.covers[1].n_supplement_types, 2, "two supplement types");
    is_str(dec.covers[1].supplement_types[1], "fees", "supplement type kept in order");
    is_int(dec.covers[3].n_designated, 2, "two designated providers");
    is_str(dec.covers[3].designated[0], "0212345668", "KBO provider on transport");
    const struct cover *c = decision_cover(&dec, CT_AMBULATORY_HOSPITAL);
    ok(c && c->period.start == date_from_ymd(2026, 10, 1), "decision_cover finds ambulatory");
    ok(decision_cover(&dec, CT_PHARMACY) == NULL, "decision_cover: absent care type");

    expect_ok(principle(), "a principle decision (exactly one year from today)");
    is_int(dec.kind, DK_PRINCIPLE, "kind principle");
    is_int(dec.n_covers, 0, "principle: no covers");
    ok(!dec.has_reference && !dec.urgent_attestation_required, "principle: defaults");
}

static void test_period(void)
{
    cJSON *d = principle();
    doc_set(d, "period.start", doc_str("2026-07-26"));
    doc_set(d, "period.end", doc_str("2026-12-31"));
    expect_ok(d, "start exactly 60 days back");
    d = principle();
    doc_set(d, "period.start", doc_str("2026-07-25"));
    doc_set(d, "period.end", doc_str("2026-12-31"));
    expect_err(d, "period.start", "start_too_early", "start 61 days back");
    d = principle();
    doc_set(d, "period.end", doc_str("2027-09-24"));
    expect_err(d, "period.end", "period_too_long", "one year and one day");
    d = principle();
    doc_set(d, "period.start", doc_str("2026-07-26"));
    doc_set(d, "period.end", doc_str("2027-07-25"));
    expect_ok(d, "one year from 60 days back");
    d = principle();
    doc_set(d, "period.end", doc_str("2026-09-24"));
    expect_ok(d, "a one-day period");
    d = principle();
    doc_set(d, "period.start", doc_str("2026-10-02"));
    doc_set(d, "period.end", doc_str("2026-10-01"));
    expect_err(d, "period", "period_reversed", "end before start");
    d = principle();
    doc_set(d, "period.start", doc_str("2026-02-30"));
    expect_err(d, "period.start", "invalid_date", "30 February");
    d = principle();
    doc_set(d, "period.end", doc_str("2026-9-30"));
    expect_err(d, "period.end", "invalid_date", "one-digit month");
    d = principle();
    doc_del(d, "period.end");
    expect_err(d, "period.end", "required", "period without end");
    d = principle();
    doc_del(d, "period");
    expect_err(d, "period", "required", "no period");
    d = principle();
    doc_set(d, "period", doc_str("2026"));
    expect_err(d, "period", "wrong_type", "period is a string");
    /* 29 February start: one year later is 28 February, so end <= 27 February */
    {
        pdate t2 = today;
        today = date_from_ymd(2028, 3, 1);
        d = principle();
        doc_set(d, "period.start", doc_str("2028-02-29"));
        doc_set(d, "period.end", doc_str("2029-02-27"));
        expect_ok(d, "29 Feb 2028 to 27 Feb 2029");
        d = principle();
        doc_set(d, "period.start", doc_str("2028-02-29"));
        doc_set(d, "period.end", doc_str("2029-02-28"));
        expect_err(d, "period.end", "period_too_long", "29 Feb 2028 to 28 Feb 2029");
        today = t2;
    }
    /* coverage: the same bounds */
    d = base();
    doc_set(d, "period.start", doc_str("2026-07-25"));
    expect_err(d, "period.start", "start_too_early", "coverage start 61 days back");
    d = base();
    doc_set(d, "period.end", doc_str("2027-09-01"));
    expect_err(d, "period.end", "period_too_long", "coverage: 2026-09-01 to 2027-09-01");
    d = base();
    doc_set(d, "period.end", doc_str("2027-08-31"));
    expect_ok(d, "coverage: 2026-09-01 to 2027-08-31 (one year)");
}

static void test_beneficiary(void)
{
    cJSON *d = principle();
    doc_set(d, "beneficiary.ssin", doc_str("85073003329"));
    expect_err(d, "beneficiary.ssin", "invalid_ssin", "bad check digits");
    d = principle();
    doc_set(d, "beneficiary.ssin", doc_str("17073003384"));
    expect_ok(d, "SSIN born 2017");
    d = principle();
    doc_set(d, "beneficiary.ssin", doc_str("85273003371"));
    expect_ok(d, "BIS number");
    d = principle();
    doc_set(d, "beneficiary.ssin", cJSON_CreateNumber(85073003328.0));
    expect_err(d, "beneficiary.ssin", "wrong_type", "SSIN as a number");
    d = principle();
    doc_del(d, "beneficiary.ssin");
    expect_err(d, "beneficiary.ssin", "required", "no SSIN");
    d = principle();
    doc_set(d, "beneficiary.ssin", cJSON_CreateNull());
    expect_err(d, "beneficiary.ssin", "required", "null SSIN");
    d = principle();
    doc_del(d, "beneficiary");
    expect_err(d, "beneficiary", "required", "no beneficiary");
    d = principle();
    doc_set(d, "beneficiary.death_date", doc_str(TODAY));
    expect_ok(d, "death date today");
    ok(dec.has_death_date && dec.death_date == today, "death date stored");
    d = principle();
    doc_set(d, "beneficiary.death_date", doc_str("2026-09-25"));
    expect_err(d, "beneficiary.death_date", "death_date_in_future", "death date tomorrow");
    d = principle();
    doc_set(d, "beneficiary.death_date", doc_str("yesterday"));
    expect_err(d, "beneficiary.death_date", "invalid_date", "death date not a date");
    d = principle();
    doc_set(d, "beneficiary.death_date", cJSON_CreateFalse());
    expect_err(d, "beneficiary.death_date", "wrong_type", "death date false");
}

static void test_top(void)
{
    cJSON *d = principle();
    doc_set(d, "kind", doc_str("other"));
    expect_err(d, "kind", "invalid_value", "unknown kind");
    d = principle();
    doc_del(d, "kind");
    expect_err(d, "kind", "required", "no kind");

    /* reference */
    char ref[200];
    memset(ref, 'r', 64);
    ref[64] = '\0';
    d = principle();
    doc_set(d, "reference", doc_str(ref));
    expect_ok(d, "reference of 64 bytes");
    ref[64] = 'r';
    ref[65] = '\0';
    d = principle();
    doc_set(d, "reference", doc_str(ref));
    expect_err(d, "reference", "too_long", "reference of 65 bytes");
    ref[0] = '\0';
    for (int i = 0; i < 32; i++)
        strcat(ref, "\xc3\xa9");
    d = principle();
    doc_set(d, "reference", doc_str(ref));
    expect_ok(d, "reference of 32 x e-acute (64 bytes)");
    is_str(dec.reference, ref, "UTF-8 reference kept");
    strcat(ref, "x");
    d = principle();
    doc_set(d, "reference", doc_str(ref));
    expect_err(d, "reference", "too_long", "65 bytes of UTF-8");
    d = principle();
    doc_set(d, "reference", doc_str(""));
    expect_err(d, "reference", "too_short", "empty reference");
    d = principle();
    doc_set(d, "reference", cJSON_CreateNull());
    expect_ok(d, "null reference");
    d = principle();
    doc_set(d, "reference", doc_str("a\tb"));
    expect_err(d, "reference", "control_character", "tab in reference");
    d = principle();
    doc_set(d, "reference", doc_str("a\xc2\x85z"));
    expect_err(d, "reference", "control_character", "C1 control in reference");
    d = principle();
    doc_set(d, "reference", doc_str("a\xff"));
    expect_err(d, "reference", "invalid_utf8", "byte FF in reference");
    d = principle();
    doc_set(d, "reference", doc_str("\xc0\xaf"));
    expect_err(d, "reference", "invalid_utf8", "overlong encoding");
    d = principle();
    doc_set(d, "reference", doc_str("\xed\xa0\x80"));
    expect_err(d, "reference", "invalid_utf8", "encoded surrogate");
    d = principle();
    doc_set(d, "reference", doc_str("\xe2\x82"));
    expect_err(d, "reference", "invalid_utf8", "truncated sequence");
    d = principle();
    doc_set(d, "reference", cJSON_CreateNumber(12));
    expect_err(d, "reference", "wrong_type", "reference as a number");

    d = principle();
    doc_set(d, "urgent_attestation_required", doc_str("yes"));
    expect_err(d, "urgent_attestation_required", "wrong_type", "urgent as a string");
    d = principle();
    doc_set(d, "urgent_attestation_required", cJSON_CreateTrue());
    expect_ok(d, "urgent true on a principle decision");

    /* principle vs coverage */
    d = principle();
    doc_set(d, "covers", cJSON_CreateArray());
    expect_err(d, "covers", "not_allowed_for_principle", "principle with covers");
    d = principle();
    doc_set(d, "state_share", cJSON_CreateObject());
    expect_err(d, "state_share", "not_allowed_for_principle", "principle with state_share");
    d = base();
    doc_del(d, "state_share");
    expect_err(d, "state_share", "required", "coverage without state_share");
    d = base();
    doc_del(d, "covers");
    expect_err(d, "covers", "required", "coverage without covers");
    d = base();
    doc_set(d, "covers", cJSON_CreateArray());
    expect_err(d, "covers", "too_few", "coverage with no covers");
    d = base();
    {
        cJSON *covers = doc_at(d, "covers");
        for (int i = 0; i < 5; i++)
            cJSON_AddItemToArray(covers, cJSON_Duplicate(cJSON_GetArrayItem(covers, 0), 1));
    }
    expect_err(d, "covers", "too_many", "nine covers");
    d = base();
    doc_set(d, "covers", cJSON_CreateObject());
    expect_err(d, "covers", "wrong_type", "covers is an object");
    d = base();
    doc_set(d, "covers.0", doc_str("gp"));
    expect_err(d, "covers[0]", "wrong_type", "a cover that is a string");
}

static void test_state_share(void)
{
    static const int good[] = {0, 50, 100};
    for (int i = 0; i < 3; i++) {
        cJSON *d = base();
        doc_set(d, "state_share.other.insurance_pct", cJSON_CreateNumber(good[i]));
        doc_set(d, "state_share.hospitalisation.patient_share_pct", cJSON_CreateNumber(good[i]));
        expect_ok(d, "percentages of 0, 50, 100");
        is_int(dec.state_share[SD_OTHER].insurance_pct, good[i], "pct %d stored", good[i]);
    }
    static const char *bad[] = {"25", "-50", "101", "150"};
    for (int i = 0; i < 4; i++) {
        cJSON *d = base();
        doc_set(d, "state_share.other.insurance_pct", doc_raw(bad[i]));
        expect_err(d, "state_share.other.insurance_pct", "invalid_percentage", bad[i]);
    }
    cJSON *d = base();
    doc_set(d, "state_share.ambulatory_hospital.patient_share_pct", doc_raw("50.5"));
    expect_err(d, "state_share.ambulatory_hospital.patient_share_pct", "not_integer", "50.5");
    d = base();
    doc_set(d, "state_share.ambulatory_hospital.patient_share_pct", doc_str("50"));
    expect_err(d, "state_share.ambulatory_hospital.patient_share_pct", "wrong_type", "\"50\"");
    d = base();
    doc_set(d, "state_share.hospitalisation.insurance_pct", doc_raw("50.0"));
    expect_ok(d, "50.0 is the integer 50");
    d = base();
    doc_del(d, "state_share.other");
    expect_err(d, "state_share.other", "required", "no state share for other");
    d = base();
    doc_del(d, "state_share.other.patient_share_pct");
    expect_err(d, "state_share.other.patient_share_pct", "required", "no patient_share_pct");
}

static void test_cover_period(void)
{
    cJSON *d = base();
    doc_set(d, "covers.0.period.start", doc_str("2026-08-31"));
    expect_err(d, "covers[0].period", "cover_outside_period", "cover starts a day early");
    d = base();
    doc_set(d, "covers.0.period.end", doc_str("2027-03-01"));
    expect_err(d, "covers[0].period", "cover_outside_period", "cover ends a day late");
    d = base();
    doc_set(d, "covers.0.period.start", doc_str("2027-02-28"));
    expect_ok(d, "cover of the decision's last day");
    d = base();
    doc_set(d, "covers.2.period.start", doc_str("2026-12-01"));
    doc_set(d, "covers.2.period.end", doc_str("2026-11-30"));
    expect_err(d, "covers[2].period", "period_reversed", "cover ends before it starts");
    d = base();
    doc_set(d, "covers.2.period.end", doc_str("2026-11-31"));
    expect_err(d, "covers[2].period.end", "invalid_date", "cover end 31 November");
    d = base();
    doc_del(d, "covers.2.period");
    expect_err(d, "covers[2].period", "required", "cover without period");
}

static void test_care_types(void)
{
    cJSON *d = base();
    doc_set(d, "covers.3.care_type", doc_str("general_practice"));
    expect_err(d, "covers[3].care_type", "duplicate_care_type", "general_practice twice");
    d = base();
    doc_set(d, "covers.0.care_type", doc_str("dentistry"));
    expect_err(d, "covers[0].care_type", "invalid_value", "unknown care type");
    d = base();
    doc_del(d, "covers.0.care_type");
    expect_err(d, "covers[0].care_type", "required", "no care type");
    d = base();
    doc_del(d, "covers.2");
    expect_err(d, "covers", "hospitalisation_requires_ambulatory",
               "hospitalisation without ambulatory_hospital");
    d = base();
    doc_del(d, "covers.1");
    expect_ok(d, "ambulatory_hospital without hospitalisation");
    /* every care type name round-trips */
    for (int t = 0; t < CT__COUNT; t++) {
        enum care_type back;
        const char *n = care_type_name((enum care_type)t);
        ok(care_type_from_name(n, strlen(n), &back) && back == (enum care_type)t,
           "care type name %s", n);
    }
    enum care_type x;
    ok(!care_type_from_name("pharmacyx", 9, &x), "care type name must match exactly");
    ok(care_type_from_name("pharmacyx", 8, &x) && x == CT_PHARMACY, "length honoured");
    is_int(care_type_domain(CT_PHARMACY), SD_OTHER, "pharmacy is domain other");
    is_int(care_type_domain(CT_AMBULATORY_HOSPITAL), SD_AMBULATORY_HOSPITAL, "ambulatory domain");
    ok(care_type_allows_kbo_provider(CT_PROSTHESIS), "prosthesis allows KBO");
    ok(!care_type_allows_kbo_provider(CT_PHARMACY), "pharmacy does not allow KBO");
    enum decision_status st;
    ok(decision_status_from_name("suspended", 9, &st) && st == DS_SUSPENDED, "status name");
}

static void test_caps(void)
{
    cJSON *d = base();
    doc_del(d, "covers.0.patient_share_cap_cents");
    expect_err(d, "covers[0].patient_share_cap_cents", "cap_required", "partial without cap");
    d = base();
    doc_set(d, "covers.0.ocmw_pays.patient_share", doc_str("full"));
    expect_err(d, "covers[0].patient_share_cap_cents", "cap_not_allowed", "full with a cap");
    d = base();
    doc_set(d, "covers.0.ocmw_pays.patient_share", doc_str("none"));
    doc_del(d, "covers.0.patient_share_cap_cents");
    expect_ok(d, "none without a cap");
    d = base();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("0"));
    expect_err(d, "covers[0].patient_share_cap_cents", "out_of_range", "cap 0");
    d = base();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("1"));
    expect_ok(d, "cap 1 cent");
    d = base();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("12.5"));
    expect_err(d, "covers[0].patient_share_cap_cents", "not_integer", "cap 12.5");
    d = base();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("9007199254740991"));
    expect_ok(d, "cap 2^53 - 1");
    is_int(dec.covers[0].patient_share_cap_cents, 9007199254740991LL, "cap 2^53 - 1 exact");
    /* the wire integer is |n| <= 2^53 - 1, judged on the text: 2^53 + 1 would
     * read as the double 2^53 */
    d = base();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("9007199254740992"));
    expect_err(d, "covers[0].patient_share_cap_cents", "out_of_range", "cap 2^53");
    d = base();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("9007199254740993"));
    expect_err(d, "covers[0].patient_share_cap_cents", "out_of_range", "cap 2^53 + 1");
    d = base();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("9007199254740990.0000001"));
    expect_err(d, "covers[0].patient_share_cap_cents", "not_integer",
               "cap 2^53 - 2 plus a fraction a double drops");
    d = base();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("9007199254740994"));
    expect_err(d, "covers[0].patient_share_cap_cents", "out_of_range", "cap 2^53 + 2");
    d = base();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("1e400"));
    expect_err(d, "covers[0].patient_share_cap_cents", "out_of_range", "cap 1e400");
    d = base();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_str("5000"));
    expect_err(d, "covers[0].patient_share_cap_cents", "wrong_type", "cap as a string");
    d = base();
    doc_set(d, "covers.0.ocmw_pays.patient_share", doc_str("some"));
    expect_err(d, "covers[0].ocmw_pays.patient_share", "invalid_value", "pays 'some'");
    d = base();
    doc_del(d, "covers.0.ocmw_pays.insurance_part");
    expect_err(d, "covers[0].ocmw_pays.insurance_part", "required", "no insurance_part");
    d = base();
    doc_del(d, "covers.0.ocmw_pays");
    expect_err(d, "covers[0].ocmw_pays", "required", "no ocmw_pays");
}

static void test_supplements(void)
{
    cJSON *d = base();
    doc_set(d, "covers.0.ocmw_pays.supplements", doc_str("partial"));
    expect_err(d, "covers[0].ocmw_pays.supplements", "supplements_not_allowed",
               "supplements partial on general practice");
    d = base();
    doc_set(d, "covers.0.ocmw_pays.supplements", doc_str("full"));
    expect_ok(d, "supplements full on general practice");
    d = base();
    doc_set(d, "covers.0.supplements_cap_cents", doc_raw("100"));
    expect_err(d, "covers[0].supplements_cap_cents", "supplements_not_allowed",
               "supplements cap on general practice");
    d = base();
    doc_set(d, "covers.3.allowed_supplement_types",
            cJSON_CreateStringArray((const char *[]){"a"}, 1));
    expect_err(d, "covers[3].allowed_supplement_types", "supplements_not_allowed",
               "supplement types on medical transport");
    d = base();
    doc_set(d, "covers.1.ocmw_pays.supplements", doc_str("full"));
    expect_err(d, "covers[1].supplements_cap_cents", "cap_not_allowed",
               "hospital supplements full with a cap");
    d = base();
    doc_set(d, "covers.1.ocmw_pays.supplements", doc_str("full"));
    doc_del(d, "covers.1.supplements_cap_cents");
    expect_err(d, "covers[1].allowed_supplement_types", "cap_not_allowed",
               "hospital supplements full with a type list");
    d = base();
    doc_set(d, "covers.1.ocmw_pays.supplements", doc_str("none"));
    doc_del(d, "covers.1.supplements_cap_cents");
    doc_del(d, "covers.1.allowed_supplement_types");
    expect_ok(d, "hospital supplements none, no cap, no list");
    d = base();
    doc_del(d, "covers.1.supplements_cap_cents");
    expect_err(d, "covers[1].supplements_cap_cents", "cap_required", "partial without cap");
    d = base();
    doc_del(d, "covers.1.allowed_supplement_types");
    expect_err(d, "covers[1].allowed_supplement_types", "cap_required",
               "partial without type list");
    d = base();
    doc_set(d, "covers.1.supplements_cap_cents", doc_raw("0"));
    expect_err(d, "covers[1].supplements_cap_cents", "out_of_range", "supplements cap 0");
    d = base();
    doc_set(d, "covers.1.allowed_supplement_types", cJSON_CreateArray());
    expect_err(d, "covers[1].allowed_supplement_types", "too_few", "empty type list");
    {
        const char *names[17];
        char buf[17][8];
        for (int i = 0; i < 17; i++) {
            snprintf(buf[i], sizeof buf[i], "t%d", i);
            names[i] = buf[i];
        }
        d = base();
        doc_set(d, "covers.1.allowed_supplement_types", cJSON_CreateStringArray(names, 16));
        expect_ok(d, "16 supplement types");
        d = base();
        doc_set(d, "covers.1.allowed_supplement_types", cJSON_CreateStringArray(names, 17));
        expect_err(d, "covers[1].allowed_supplement_types", "too_many", "17 supplement types");
    }
    d = base();
    doc_set(d, "covers.1.allowed_supplement_types.0", doc_str("Room"));
    expect_err(d, "covers[1].allowed_supplement_types[0]", "invalid_supplement_type", "upper case");
    d = base();
    doc_set(d, "covers.1.allowed_supplement_types.0", doc_str("abcdefghijklmnopqrstuvwxyz0123456"));
    expect_err(d, "covers[1].allowed_supplement_types[0]", "invalid_supplement_type",
               "33 characters");
    d = base();
    doc_set(d, "covers.1.allowed_supplement_types.0", doc_str("abcdefghijklmnopqrstuvwxyz_12345"));
    expect_ok(d, "32 characters");
    d = base();
    doc_set(d, "covers.1.allowed_supplement_types.1", doc_str("room"));
    expect_err(d, "covers[1].allowed_supplement_types[1]", "duplicate_supplement_type",
               "room twice");
}

static void test_providers(void)
{
    cJSON *d = base();
    doc_set(d, "covers.0.designated_providers",
            cJSON_CreateStringArray((const char *[]){"10000000000"}, 1));
    expect_ok(d, "NIHII provider on general practice");
    d = base();
    doc_set(d, "covers.0.designated_providers",
            cJSON_CreateStringArray((const char *[]){"0212345668"}, 1));
    expect_err(d, "covers[0].designated_providers[0]", "invalid_provider",
               "KBO provider on general practice");
    d = base();
    doc_set(d, "covers.3.designated_providers.0", doc_str("0212345669"));
    expect_err(d, "covers[3].designated_providers[0]", "invalid_provider",
               "KBO with a bad check on transport");
    d = base();
    doc_set(d, "covers.3.care_type", doc_str("prosthesis"));
    expect_ok(d, "KBO provider on prosthesis");
    d = base();
    doc_set(d, "covers.3.designated_providers.1", doc_str("0212345668"));
    expect_err(d, "covers[3].designated_providers[1]", "duplicate_provider", "KBO twice");
    d = base();
    doc_set(d, "covers.3.designated_providers.1", doc_raw("10000000000"));
    expect_err(d, "covers[3].designated_providers[1]", "wrong_type", "provider as a number");
    d = base();
    doc_set(d, "covers.0.designated_providers", doc_str("10000000000"));
    expect_err(d, "covers[0].designated_providers", "wrong_type", "providers not an array");
    {
        cJSON *arr64 = cJSON_CreateArray(), *arr65 = cJSON_CreateArray();
        for (int i = 0; i < 65; i++) {
            char s[12];
            snprintf(s, sizeof s, "%011d", 10000000 + i);
            if (i < 64)
                cJSON_AddItemToArray(arr64, doc_str(s));
            cJSON_AddItemToArray(arr65, doc_str(s));
        }
        d = base();
        doc_set(d, "covers.0.designated_providers", arr64);
        expect_ok(d, "64 providers");
        is_int(dec.covers[0].n_designated, 64, "64 providers stored");
        d = base();
        doc_set(d, "covers.0.designated_providers", arr65);
        expect_err(d, "covers[0].designated_providers", "too_many", "65 providers");
    }
    d = base();
    doc_set(d, "covers.0.prescription_required", cJSON_CreateNull());
    expect_err(d, "covers[0].prescription_required", "wrong_type", "prescription null");
    d = base();
    doc_set(d, "covers.0.convention", doc_raw("1"));
    expect_err(d, "covers[0].convention", "wrong_type", "convention 1");
}

static void test_unknown_and_duplicates(void)
{
    static const char *where[] = {"",
                                  "beneficiary",
                                  "period",
                                  "state_share",
                                  "state_share.other",
                                  "covers.0",
                                  "covers.0.period",
                                  "covers.0.ocmw_pays"};
    static const char *paths[] = {"color",
                                  "beneficiary.color",
                                  "period.color",
                                  "state_share.color",
                                  "state_share.other.color",
                                  "covers[0].color",
                                  "covers[0].period.color",
                                  "covers[0].ocmw_pays.color"};
    for (int i = 0; i < 8; i++) {
        cJSON *d = base();
        cJSON *o = where[i][0] ? doc_at(d, where[i]) : d;
        cJSON_AddStringToObject(o, "color", "blue");
        expect_err(d, paths[i], "unknown_field", where[i][0] ? where[i] : "top level");
    }
    static const char *ro[] = {"id", "version", "status", "ocmw", "recorded_at"};
    for (int i = 0; i < 5; i++) {
        cJSON *d = principle();
        cJSON_AddStringToObject(d, ro[i], "x");
        expect_err(d, ro[i], "read_only_field", ro[i]);
    }
    expect_text_err("{\"kind\":\"principle\",\"kind\":\"principle\",\"beneficiary\":{\"ssin\":"
                    "\"85073003328\"},\"period\":{\"start\":\"2026-09-24\",\"end\":"
                    "\"2026-09-30\"}}",
                    "kind", "duplicate_field", "kind twice");
    expect_text_err("{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\","
                    "\"ssin\":\"85073003328\"},\"period\":{\"start\":\"2026-09-24\",\"end\":"
                    "\"2026-09-30\"}}",
                    "beneficiary.ssin", "duplicate_field", "ssin twice");
    expect_text_err("{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
                    "\"period\":{\"start\":\"2026-09-24\",\"end\":\"2026-09-30\",\"end\":"
                    "\"2026-09-30\"}}",
                    "period.end", "duplicate_field", "end twice");
    expect_text_err("{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
                    "\"period\":{\"start\":\"2026-09-24\",\"end\":\"2026-09-30\"},"
                    "\"c\\u00f6l\\\"\":1}",
                    "c??l?", "unknown_field", "odd characters in an unknown key are masked");
    /* many errors: bounded */
    {
        cJSON *d = principle();
        for (int i = 0; i < 40; i++) {
            char k[8];
            snprintf(k, sizeof k, "x%d", i);
            cJSON_AddNumberToObject(d, k, i);
        }
        enum parse_result r = run(d);
        ok(r == PARSE_INVALID && errs.n == VERRS_MAX && errs.truncated, "40 errors truncated");
    }
}

static void test_malformed(void)
{
    expect_malformed("", 0, "empty body");
    expect_malformed("{", 1, "unterminated object");
    expect_malformed("[]", 2, "an array");
    expect_malformed("null", 4, "null");
    expect_malformed("\"x\"", 3, "a string");
    expect_malformed("{} x", 4, "trailing garbage");
    expect_malformed("{}{}", 4, "two objects");
    expect_malformed("{}\x01", 3, "trailing control byte");
    expect_malformed("{\x01}", 3, "control byte as whitespace");
    expect_malformed("{\"kind\":\"a\tb\"}", 14, "raw tab inside a string");
    expect_malformed("{\"reference\":\"a\\u0000b\"}", 24, "escaped NUL");
    expect_malformed("{\"kind\":'principle'}", 20, "single quotes");
    expect_malformed("{\"a\":1,}", 8, "trailing comma");
    {
        /* (pointer, length): the byte after the buffer is not read */
        const char *t = "{\"kind\":\"principle\"}XYZ";
        is_int(run_text(t, 20), PARSE_INVALID, "length honoured: parsed as JSON, then invalid");
        is_int(run_text(t, 19), PARSE_MALFORMED, "length honoured: truncated object");
    }
    is_int(run_text("{}  \n\t\r ", 8), PARSE_INVALID, "trailing whitespace is fine");
    ok(has_err("kind", "required") && has_err("beneficiary", "required") &&
           has_err("period", "required"),
       "empty object: kind, beneficiary and period required");
    {
        char deep[3000];
        size_t n = 0;
        for (int i = 0; i < 1200; i++)
            deep[n++] = '[';
        for (int i = 0; i < 1200; i++)
            deep[n++] = ']';
        expect_malformed(deep, n, "nesting deeper than the cJSON limit");
    }
}

static void test_encode(void)
{
    const char *small =
        "{\"kind\":\"coverage\",\"beneficiary\":{\"ssin\":\"85073003328\",\"death_date\":null},"
        "\"period\":{\"start\":\"2026-11-01\",\"end\":\"2027-04-30\"},\"reference\":\"2026/1234\","
        "\"urgent_attestation_required\":true,\"state_share\":{\"hospitalisation\":{"
        "\"insurance_pct\":100,\"patient_share_pct\":100},\"ambulatory_hospital\":{"
        "\"insurance_pct\":100,\"patient_share_pct\":100},\"other\":{\"insurance_pct\":100,"
        "\"patient_share_pct\":0}},\"covers\":[{\"care_type\":\"general_practice\",\"period\":{"
        "\"start\":\"2026-11-01\",\"end\":\"2027-04-30\"},\"ocmw_pays\":{\"insurance_part\":"
        "\"none\",\"patient_share\":\"partial\",\"supplements\":\"none\"},"
        "\"patient_share_cap_cents\":5000,\"prescription_required\":false,\"convention\":false,"
        "\"designated_providers\":[]}]}";
    pdate t2 = today;
    today = date_from_ymd(2026, 11, 23);
    is_int(run_text(small, strlen(small)), PARSE_OK, "the DESIGN.md example parses");
    today = t2;
    char *s = decision_encode(&dec, false);
    is_str(s, small, "canonical encoding (no meta) is the example, byte for byte");
    free(s);
    snprintf(dec.id, sizeof dec.id, "D2026-00000001");
    dec.version = 1;
    dec.status = DS_ACTIVE;
    snprintf(dec.ocmw, sizeof dec.ocmw, "0212345668");
    snprintf(dec.recorded_at, sizeof dec.recorded_at, "2026-11-23T17:30:00Z");
    dec.has_meta = true;
    s = decision_encode(&dec, true);
    ok(s && strncmp(s,
                    "{\"id\":\"D2026-00000001\",\"version\":1,\"status\":\"active\",\"ocmw\":"
                    "\"0212345668\",\"recorded_at\":\"2026-11-23T17:30:00Z\",\"kind\":"
                    "\"coverage\",",
                    strlen("{\"id\":\"D2026-00000001\",\"version\":1,\"status\":\"active\","
                           "\"ocmw\":\"0212345668\",\"recorded_at\":\"2026-11-23T17:30:00Z\","
                           "\"kind\":\"coverage\",")) == 0,
       "meta first, in order");
    struct decision back;
    ok(s && decision_parse_stored(s, strlen(s), &back) && back.has_meta && back.version == 1 &&
           strcmp(back.recorded_at, "2026-11-23T17:30:00Z") == 0,
       "parse_stored reads meta");
    is_int(decision_parse_input(s, strlen(s), today, &back, &errs), PARSE_INVALID,
           "parse_input refuses the stored form (read-only fields)");
    free(s);
    round_trip(&dec, true, "the example");
    round_trip(&dec, false, "the example");

    /* the big base */
    run(base());
    round_trip(&dec, false, "four covers");
    dec.covers[0].patient_share_cap_cents = 123456789012345LL;
    dec.covers[1].supplements_cap_cents = 9007199254740991LL;
    s = decision_encode(&dec, false);
    ok(s && strstr(s, "\"patient_share_cap_cents\":123456789012345,"),
       "123456789012345 cents printed exactly");
    ok(s && strstr(s, "\"supplements_cap_cents\":9007199254740991,"), "2^53 - 1 printed exactly");
    free(s);
    round_trip(&dec, false, "large caps");
    dec.has_death_date = true;
    dec.death_date = date_from_ymd(2026, 9, 1);
    memcpy(dec.reference, "caf\xc3\xa9 \"q\" \\", 12);
    round_trip(&dec, false, "death date, escaped reference");

    run(principle());
    s = decision_encode(&dec, false);
    is_str(s,
           "{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\",\"death_date\":"
           "null},\"period\":{\"start\":\"2026-09-24\",\"end\":\"2027-09-23\"},\"reference\":"
           "null,\"urgent_attestation_required\":false}",
           "principle: defaults written, no state_share, no covers");
    free(s);
    round_trip(&dec, false, "principle");

    /* stored: structure only; partial meta refused */
    const char *partial = "{\"id\":\"D1\",\"kind\":\"principle\",\"beneficiary\":{\"ssin\":"
                          "\"85073003328\"},\"period\":{\"start\":\"2020-01-01\",\"end\":"
                          "\"2020-01-02\"}}";
    ok(!decision_parse_stored(partial, strlen(partial), &back), "stored: partial meta refused");
    const char *old = "{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
                      "\"period\":{\"start\":\"2001-01-01\",\"end\":\"2009-01-02\"}}";
    ok(decision_parse_stored(old, strlen(old), &back), "stored: no rule depends on today");
    ok(!decision_parse_stored("{\"kind\":1}", 10, &back), "stored: wrong type refused");
    ok(!decision_parse_stored("nope", 4, &back), "stored: garbage refused");
}

int main(void)
{
    today = date_from_ymd(2026, 9, 24);
    test_accepts();
    test_period();
    test_beneficiary();
    test_top();
    test_state_share();
    test_cover_period();
    test_care_types();
    test_caps();
    test_supplements();
    test_providers();
    test_unknown_and_duplicates();
    test_malformed();
    test_encode();
    return done_testing();
}
