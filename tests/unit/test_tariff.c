/* unit tests: proto/tariff (the tariff import) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tariff.h"
#include "tap.h"

#define HDR "code,start,end,fee_cents,patient_share_cents,care_types\n"

static pdate D(const char *s)
{
    pdate d = 0;
    date_parse(s, strlen(s), &d);
    return d;
}

static bool has_err(const struct verrs *e, const char *field, const char *code)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->items[i].field, field) == 0 && strcmp(e->items[i].code, code) == 0)
            return true;
    return false;
}

static void dump(const struct verrs *e)
{
    for (int i = 0; i < e->n; i++)
        diag("  %s: %s (%s)", e->items[i].field, e->items[i].code, e->items[i].message);
}

static void test_csv_ok(void)
{
    const char *csv = "# sample tariffs\r\n" /* a comment before the header */
                      "code,start,end,fee_cents,patient_share_cents,care_types\r\n"
                      "\r\n"
                      "102771,2026-01-01,2026-12-31,2500,400,general_practice\r\n"
                      "# a comment\r\n"
                      "101076,2027-01-01,2027-12-31,3100,620,general_practice\r\n"
                      "101076,2026-01-01,2026-12-31,3000,600,general_practice|paramedical\r\n"
                      "\r\n"
                      "590013,2026-01-01,2026-01-01,0,0,hospitalisation|ambulatory_hospital|"
                      "general_practice|paramedical|pharmacy|prosthesis|medical_transport|"
                      "miscellaneous"; /* no final newline */
    struct tariff_set s;
    struct verrs e;
    enum parse_result r = tariff_parse(csv, strlen(csv), true, &s, &e);
    if (!is_int(r, PARSE_OK, "csv: parses"))
        dump(&e);
    is_int(s.n, 4, "csv: four lines");
    if (s.n == 4) {
        ok(strcmp(s.lines[0].code, "101076") == 0 && s.lines[0].period.start == D("2026-01-01") &&
               s.lines[0].period.end == D("2026-12-31") && s.lines[0].fee_cents == 3000 &&
               s.lines[0].patient_share_cents == 600 &&
               s.lines[0].care_types == ((1u << CT_GENERAL_PRACTICE) | (1u << CT_PARAMEDICAL)),
           "csv: first line (sorted by code, start)");
        ok(strcmp(s.lines[1].code, "101076") == 0 && s.lines[1].period.start == D("2027-01-01") &&
               s.lines[1].fee_cents == 3100,
           "csv: second line, same code, later start");
        ok(strcmp(s.lines[2].code, "102771") == 0, "csv: then the next code");
        ok(strcmp(s.lines[3].code, "590013") == 0 && s.lines[3].care_types == 0xffu &&
               s.lines[3].fee_cents == 0 && s.lines[3].period.start == s.lines[3].period.end,
           "csv: all eight care types, zero fee, one day");
    }
    tariff_set_free(&s);

    const char *lf = "\xEF\xBB\xBF" HDR "101076,2026-01-01,2026-12-31,1000000000,1000000000,"
                     "pharmacy\n";
    r = tariff_parse(lf, strlen(lf), true, &s, &e);
    ok(r == PARSE_OK && s.n == 1 && s.lines[0].fee_cents == 1000000000 &&
           s.lines[0].patient_share_cents == 1000000000,
       "csv: LF, byte order mark, amounts at 10^9, share == fee");
    tariff_set_free(&s);
}

static void test_csv_errors(void)
{
    static const struct {
        const char *csv, *field, *code;
    } t[] = {
        {"", "", "empty"},
        {"# only a comment\n\n", "", "empty"},
        {HDR, "", "empty"},
        {HDR "# nothing\r\n\r\n", "", "empty"},
        {"code,start,end,fee_cents,patient_share_cents\n", "line 1", "bad_header"},
        {"code,start,end,fee_cents,patient_share_cents,care_types,\n", "line 1", "bad_header"},
        {"Code,start,end,fee_cents,patient_share_cents,care_types\n", "line 1", "bad_header"},
        {" code,start,end,fee_cents,patient_share_cents,care_types\n", "line 1", "bad_header"},
        {"#x\n101076,2026-01-01,2026-12-31,3000,600,pharmacy\n", "line 2", "bad_header"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600\n", "line 2", "wrong_field_count"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600,pharmacy,\n", "line 2", "wrong_field_count"},
        {HDR "\n101076,2026-01-01,2026-12-31,3000,600,\"pharmacy,x\"\n", "line 3",
         "wrong_field_count"},
        {HDR "10107,2026-01-01,2026-12-31,3000,600,pharmacy\n", "line 2", "invalid_code"},
        {HDR "1010761,2026-01-01,2026-12-31,3000,600,pharmacy\n", "line 2", "invalid_code"},
        {HDR "10107a,2026-01-01,2026-12-31,3000,600,pharmacy\n", "line 2", "invalid_code"},
        {HDR " 101076,2026-01-01,2026-12-31,3000,600,pharmacy\n", "line 2", "invalid_code"},
        {HDR "101076,2026-02-29,2026-12-31,3000,600,pharmacy\n", "line 2", "invalid_date"},
        {HDR "101076,2026-01-01,2026-13-01,3000,600,pharmacy\n", "line 2", "invalid_date"},
        {HDR "101076,2026-01-01,,3000,600,pharmacy\n", "line 2", "invalid_date"},
        {HDR "101076,2026-01-02,2026-01-01,3000,600,pharmacy\n", "line 2", "period_reversed"},
        {HDR "101076,2026-01-01,2026-12-31,1000000001,600,pharmacy\n", "line 2", "invalid_amount"},
        {HDR "101076,2026-01-01,2026-12-31,-1,0,pharmacy\n", "line 2", "invalid_amount"},
        {HDR "101076,2026-01-01,2026-12-31,+5,0,pharmacy\n", "line 2", "invalid_amount"},
        {HDR "101076,2026-01-01,2026-12-31,30.00,0,pharmacy\n", "line 2", "invalid_amount"},
        {HDR "101076,2026-01-01,2026-12-31,,0,pharmacy\n", "line 2", "invalid_amount"},
        {HDR "101076,2026-01-01,2026-12-31,3000,,pharmacy\n", "line 2", "invalid_amount"},
        {HDR "101076,2026-01-01,2026-12-31,3000,3001,pharmacy\n", "line 2", "share_above_fee"},
        {HDR "101076,2026-01-01,2026-12-31,0,1,pharmacy\n", "line 2", "share_above_fee"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600,\n", "line 2", "invalid_care_type"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600,dentist\n", "line 2", "invalid_care_type"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600,pharmacy|\n", "line 2", "invalid_care_type"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600,Pharmacy\n", "line 2", "invalid_care_type"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600,pharmacy|paramedical|pharmacy\n", "line 2",
         "duplicate_care_type"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600,pharmacy\n"
             "101076,2026-12-31,2027-12-31,3000,600,pharmacy\n",
         "line 3", "overlapping_period"},
        {HDR "101076,2027-01-01,2027-12-31,3000,600,pharmacy\n"
             "101076,2026-01-01,2027-01-01,3000,600,pharmacy\n",
         "line 2", "overlapping_period"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600,pharmacy\n"
             "101076,2026-03-01,2026-03-31,3000,600,paramedical\n",
         "line 3", "overlapping_period"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600,pharmacy\xff\n", "line 2", "invalid_utf8"},
        {"# caf\xc3\n" HDR "101076,2026-01-01,2026-12-31,3000,600,pharmacy\n", "line 1",
         "invalid_utf8"},
        {HDR "101076,2026-01-01,2026-12-31,3000,600,pharmacy\n#\xed\xa0\x80\n", "line 3",
         "invalid_utf8"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct tariff_set s = {0, NULL};
        struct verrs e;
        enum parse_result r = tariff_parse(t[i].csv, strlen(t[i].csv), true, &s, &e);
        if (!ok(r == PARSE_INVALID && has_err(&e, t[i].field, t[i].code) && s.lines == NULL,
                "csv %zu refused: %s at '%s'", i, t[i].code, t[i].field))
            dump(&e);
        tariff_set_free(&s);
    }

    /* several errors on one line, all reported */
    const char *m = HDR "1,2026-02-30,x,-1,1,foo|foo\n";
    struct tariff_set s;
    struct verrs e;
    tariff_parse(m, strlen(m), true, &s, &e);
    ok(has_err(&e, "line 2", "invalid_code") && has_err(&e, "line 2", "invalid_date") &&
           has_err(&e, "line 2", "invalid_amount") && has_err(&e, "line 2", "invalid_care_type"),
       "csv: every error of a line is reported");

    /* adjacent periods of one code are fine; the same period for two codes too */
    const char *adj = HDR "101076,2026-01-01,2026-12-31,3000,600,pharmacy\n"
                          "101076,2027-01-01,2027-12-31,3100,600,pharmacy\n"
                          "101077,2026-01-01,2026-12-31,3000,600,pharmacy\n";
    ok(tariff_parse(adj, strlen(adj), true, &s, &e) == PARSE_OK && s.n == 3,
       "csv: adjacent periods of one code are accepted");
    tariff_set_free(&s);

    /* an overlap is found behind a long line: [Jan-Dec], [Feb], [Jun] */
    const char *nest = HDR "101076,2026-01-01,2026-12-31,3000,600,pharmacy\n"
                           "101076,2026-02-01,2026-02-28,3000,600,pharmacy\n"
                           "101076,2026-06-01,2026-06-30,3000,600,pharmacy\n";
    tariff_parse(nest, strlen(nest), true, &s, &e);
    ok(has_err(&e, "line 3", "overlapping_period") && has_err(&e, "line 4", "overlapping_period"),
       "csv: both lines inside a long period are reported");

    /* too many lines: TARIFF_MAX_LINES accepted, one more refused */
    size_t cap = (size_t)(TARIFF_MAX_LINES + 1) * 60 + 100;
    char *big = malloc(cap);
    size_t len = (size_t)snprintf(big, cap, "%s", HDR);
    for (int i = 0; i < TARIFF_MAX_LINES; i++)
        len += (size_t)snprintf(big + len, cap - len, "%06d,2026-01-01,2026-12-31,100,0,pharmacy\n",
                                i);
    ok(tariff_parse(big, len, true, &s, &e) == PARSE_OK && s.n == TARIFF_MAX_LINES,
       "csv: %d lines accepted", TARIFF_MAX_LINES);
    tariff_set_free(&s);
    len += (size_t)snprintf(big + len, cap - len, "999999,2026-01-01,2026-12-31,100,0,pharmacy\n");
    ok(tariff_parse(big, len, true, &s, &e) == PARSE_INVALID && e.n >= 1 &&
           strcmp(e.items[0].code, "too_many") == 0,
       "csv: one more line is too_many");
    free(big);
}

#define J1                                                                                         \
    "{\"code\":\"101076\",\"period\":{\"start\":\"2026-01-01\",\"end\":\"2026-12-31\"},"           \
    "\"fee_cents\":3000,\"patient_share_cents\":600,\"care_types\":[\"general_practice\"]}"

static void test_json(void)
{
    const char *j = "[" J1 ",{\"code\":\"000001\",\"period\":{\"start\":\"2026-01-01\",\"end\":"
                    "\"2026-01-31\"},\"fee_cents\":1,\"patient_share_cents\":1,\"care_types\":"
                    "[\"pharmacy\",\"prosthesis\"]}]";
    struct tariff_set s;
    struct verrs e;
    enum parse_result r = tariff_parse(j, strlen(j), false, &s, &e);
    if (!is_int(r, PARSE_OK, "json: parses"))
        dump(&e);
    ok(s.n == 2 && strcmp(s.lines[0].code, "000001") == 0 &&
           s.lines[0].care_types == ((1u << CT_PHARMACY) | (1u << CT_PROSTHESIS)) &&
           strcmp(s.lines[1].code, "101076") == 0 && s.lines[1].fee_cents == 3000 &&
           s.lines[1].patient_share_cents == 600 &&
           s.lines[1].care_types == 1u << CT_GENERAL_PRACTICE,
       "json: two lines, sorted");
    tariff_set_free(&s);

    is_int(tariff_parse("{}", 2, false, &s, &e), PARSE_MALFORMED, "json: an object, not an array");
    is_int(tariff_parse("[", 1, false, &s, &e), PARSE_MALFORMED, "json: truncated");
    is_int(tariff_parse("", 0, false, &s, &e), PARSE_MALFORMED, "json: nothing");

#define PER "\"period\":{\"start\":\"2026-01-01\",\"end\":\"2026-12-31\"}"
#define CT  "\"care_types\":[\"pharmacy\"]"
    static const struct {
        const char *json, *field, *code;
    } t[] = {
        {"[]", "", "empty"},
        {"[1]", "[0]", "wrong_type"},
        {"[" J1 ",null]", "[1]", "wrong_type"},
        {"[{\"period\":{\"start\":\"2026-01-01\",\"end\":\"2026-12-31\"},\"fee_cents\":1,"
         "\"patient_share_cents\":0," CT "}]",
         "[0].code", "required"},
        {"[{\"code\":101076," PER ",\"fee_cents\":1,\"patient_share_cents\":0," CT "}]", "[0].code",
         "wrong_type"},
        {"[{\"code\":\"10107\"," PER ",\"fee_cents\":1,\"patient_share_cents\":0," CT "}]",
         "[0].code", "invalid_code"},
        {"[{\"code\":\"1010760\"," PER ",\"fee_cents\":1,\"patient_share_cents\":0," CT "}]",
         "[0].code", "invalid_code"},
        {"[{\"code\":\"101076\",\"fee_cents\":1,\"patient_share_cents\":0," CT "}]", "[0].period",
         "required"},
        {"[{\"code\":\"101076\",\"period\":[]"
         ",\"fee_cents\":1,\"patient_share_cents\":0," CT "}]",
         "[0].period", "wrong_type"},
        {"[{\"code\":\"101076\",\"period\":{\"start\":\"2026-01-01\"},\"fee_cents\":1,"
         "\"patient_share_cents\":0," CT "}]",
         "[0].period.end", "required"},
        {"[{\"code\":\"101076\",\"period\":{\"start\":\"2026-01-01\",\"end\":\"2026-12-32\"},"
         "\"fee_cents\":1,\"patient_share_cents\":0," CT "}]",
         "[0].period.end", "invalid_date"},
        {"[{\"code\":\"101076\",\"period\":{\"start\":\"2026-01-02\",\"end\":\"2026-01-01\"},"
         "\"fee_cents\":1,\"patient_share_cents\":0," CT "}]",
         "[0].period", "period_reversed"},
        {"[{\"code\":\"101076\",\"period\":{\"start\":\"2026-01-01\",\"end\":\"2026-01-01\","
         "\"x\":1},\"fee_cents\":1,\"patient_share_cents\":0," CT "}]",
         "[0].period.x", "unknown_field"},
        {"[{\"code\":\"101076\"," PER ",\"patient_share_cents\":0," CT "}]", "[0].fee_cents",
         "required"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":\"1\",\"patient_share_cents\":0," CT "}]",
         "[0].fee_cents", "wrong_type"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":1000000001,\"patient_share_cents\":0," CT
         "}]",
         "[0].fee_cents", "invalid_amount"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":-1,\"patient_share_cents\":0," CT "}]",
         "[0].fee_cents", "invalid_amount"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":1.5,\"patient_share_cents\":0," CT "}]",
         "[0].fee_cents", "invalid_amount"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":1e300,\"patient_share_cents\":0," CT "}]",
         "[0].fee_cents", "out_of_range"},
        {"[{\"code\":\"101076\"," PER
         ",\"fee_cents\":9007199254740993,\"patient_share_cents\":0," CT "}]",
         "[0].fee_cents", "out_of_range"},
        {"[{\"code\":\"101076\"," PER
         ",\"fee_cents\":9007199254740991,\"patient_share_cents\":0," CT "}]",
         "[0].fee_cents", "invalid_amount"},
        {"[{\"code\":\"10107\xff\"," PER ",\"fee_cents\":1,\"patient_share_cents\":0," CT "}]",
         "[0].code", "invalid_utf8"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":10,\"patient_share_cents\":11," CT "}]",
         "[0].patient_share_cents", "share_above_fee"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":10,\"patient_share_cents\":null," CT "}]",
         "[0].patient_share_cents", "required"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":10,\"patient_share_cents\":1}]",
         "[0].care_types", "required"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":10,\"patient_share_cents\":1,"
         "\"care_types\":\"pharmacy\"}]",
         "[0].care_types", "wrong_type"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":10,\"patient_share_cents\":1,"
         "\"care_types\":[]}]",
         "[0].care_types", "invalid_care_type"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":10,\"patient_share_cents\":1,"
         "\"care_types\":[\"pharmacy\",7]}]",
         "[0].care_types[1]", "wrong_type"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":10,\"patient_share_cents\":1,"
         "\"care_types\":[\"pharmacy\",\"dentist\"]}]",
         "[0].care_types[1]", "invalid_care_type"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":10,\"patient_share_cents\":1,"
         "\"care_types\":[\"pharmacy\",\"paramedical\",\"pharmacy\"]}]",
         "[0].care_types[2]", "duplicate_care_type"},
        {"[{\"code\":\"101076\",\"code\":\"101076\"," PER
         ",\"fee_cents\":10,\"patient_share_cents\":1," CT "}]",
         "[0].code", "duplicate_field"},
        {"[{\"code\":\"101076\"," PER ",\"fee_cents\":10,\"patient_share_cents\":1," CT
         ",\"name\":\"x\"}]",
         "[0].name", "unknown_field"},
        {"[" J1 "," J1 "]", "[1].period", "overlapping_period"},
        {"[" J1 ",{\"code\":\"101076\",\"period\":{\"start\":\"2025-01-01\",\"end\":"
         "\"2026-01-01\"},\"fee_cents\":10,\"patient_share_cents\":1," CT "}]",
         "[0].period", "overlapping_period"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct verrs e2;
        s.lines = NULL;
        enum parse_result r2 = tariff_parse(t[i].json, strlen(t[i].json), false, &s, &e2);
        if (!ok(r2 == PARSE_INVALID && has_err(&e2, t[i].field, t[i].code) && s.lines == NULL,
                "json %zu refused: %s at '%s'", i, t[i].code, t[i].field))
            dump(&e2);
        tariff_set_free(&s);
    }
    const char *adj = "[" J1 ",{\"code\":\"101076\",\"period\":{\"start\":\"2025-01-01\",\"end\":"
                      "\"2025-12-31\"},\"fee_cents\":10,\"patient_share_cents\":1," CT "}]";
    ok(tariff_parse(adj, strlen(adj), false, &s, &e) == PARSE_OK && s.n == 2 &&
           s.lines[0].period.start == D("2025-01-01"),
       "json: adjacent periods accepted, sorted by start");
    tariff_set_free(&s);

    /* too many elements */
    size_t one = strlen(J1) + 1;
    size_t cap = one * (TARIFF_MAX_LINES + 1) + 4;
    char *big = malloc(cap);
    size_t len = 0;
    big[len++] = '[';
    for (int i = 0; i <= TARIFF_MAX_LINES; i++) {
        len += (size_t)snprintf(big + len, cap - len,
                                "%s{\"code\":\"%06d\",\"period\":{\"start\":\"2026-01-01\","
                                "\"end\":\"2026-12-31\"},\"fee_cents\":1,\"patient_share_cents\""
                                ":0,\"care_types\":[\"pharmacy\"]}",
                                i ? "," : "", i);
    }
    big[len++] = ']';
    r = tariff_parse(big, len, false, &s, &e);
    ok(r == PARSE_INVALID && has_err(&e, "", "too_many"), "json: %d + 1 elements: too_many",
       TARIFF_MAX_LINES);
    free(big);
}

static void test_round_trip(void)
{
    struct tariff t = {.code = "101076",
                       .period = {D("2026-01-01"), D("2026-12-31")},
                       .fee_cents = 1000000000,
                       .patient_share_cents = 999999999,
                       .care_types = (1u << CT_HOSPITALISATION) | (1u << CT_MISCELLANEOUS)};
    char *s = tariff_encode(&t);
    is_str(s,
           "{\"code\":\"101076\",\"period\":{\"start\":\"2026-01-01\",\"end\":\"2026-12-31\"},"
           "\"fee_cents\":1000000000,\"patient_share_cents\":999999999,\"care_types\":["
           "\"hospitalisation\",\"miscellaneous\"]}",
           "encode: exact text, integers without exponent, care types in their order");
    struct tariff back;
    memset(&back, 0x55, sizeof back);
    ok(s && tariff_parse_one(s, strlen(s), &back), "parse_one: reads what encode wrote");
    ok(strcmp(back.code, t.code) == 0 && back.period.start == t.period.start &&
           back.period.end == t.period.end && back.fee_cents == t.fee_cents &&
           back.patient_share_cents == t.patient_share_cents && back.care_types == t.care_types,
       "round trip: the same line");
    free(s);

    static const char *bad[] = {
        "",
        "[]",
        "{\"code\":\"101076\"}",
        "{\"code\":\"101076\",\"period\":{\"start\":\"2026-01-01\",\"end\":\"2026-12-31\"},"
        "\"fee_cents\":1,\"patient_share_cents\":2,\"care_types\":[\"pharmacy\"]}",
        "{\"code\":\"101076\",\"period\":{\"start\":\"2026-01-01\",\"end\":\"2026-12-31\"},"
        "\"fee_cents\":1,\"patient_share_cents\":0,\"care_types\":[\"pharmacy\"],\"x\":1}",
        J1 " x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ok(!tariff_parse_one(bad[i], strlen(bad[i]), &back), "parse_one refuses bad %zu", i);
    ok(tariff_parse_one(J1, strlen(J1), &back) && back.fee_cents == 3000,
       "parse_one: the DESIGN.md line");
}

int main(void)
{
    test_csv_ok();
    test_csv_errors();
    test_json();
    test_round_trip();
    return done_testing();
}
