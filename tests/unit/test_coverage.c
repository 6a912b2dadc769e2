/* unit tests: proto/coverage */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "tap.h"

static pdate today;

static pdate D(const char *s)
{
    pdate d = 0;
    date_parse(s, strlen(s), &d);
    return d;
}

/* a decision built through the real parser */
static struct decision make(const char *json, const char *id, enum decision_status st)
{
    struct decision d;
    struct verrs e;
    enum parse_result r = decision_parse_input(json, strlen(json), today, &d, &e);
    if (r != PARSE_OK) {
        diag("test data does not parse: %s", json);
        for (int i = 0; i < e.n; i++)
            diag("  %s: %s", e.items[i].field, e.items[i].message);
    }
    d.has_meta = true;
    snprintf(d.id, sizeof d.id, "%s", id);
    d.version = 3;
    d.status = st;
    snprintf(d.ocmw, sizeof d.ocmw, "0212345668");
    snprintf(d.recorded_at, sizeof d.recorded_at, "2026-10-01T08:00:00Z");
    return d;
}

#define SHARE                                                                                      \
    "\"state_share\":{\"hospitalisation\":{\"insurance_pct\":100,\"patient_share_pct\":100},"      \
    "\"ambulatory_hospital\":{\"insurance_pct\":100,\"patient_share_pct\":100},"                   \
    "\"other\":{\"insurance_pct\":100,\"patient_share_pct\":0}}"
#define PAYS_NONE_                                                                                 \
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\",\"supplements\":"       \
    "\"none\"}"

static const char *cov_json =
    "{\"kind\":\"coverage\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-03-31\"},"
    "\"urgent_attestation_required\":true," SHARE ",\"covers\":["
    "{\"care_type\":\"general_practice\",\"period\":{\"start\":\"2026-10-01\",\"end\":"
    "\"2027-03-31\"}," PAYS_NONE_ ",\"prescription_required\":true},"
    "{\"care_type\":\"pharmacy\",\"period\":{\"start\":\"2026-11-01\",\"end\":\"2026-11-30\"}"
    "," PAYS_NONE_ "},"
    "{\"care_type\":\"medical_transport\",\"period\":{\"start\":\"2026-10-01\",\"end\":"
    "\"2027-03-31\"}," PAYS_NONE_ ",\"designated_providers\":[\"0212345668\",\"71012345678\"]}"
    "]}";

static const char *principle_json =
    "{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-09-30\"}}";

static const char *dead_json =
    "{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\",\"death_date\":"
    "\"2026-11-10\"},\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-09-30\"}}";

static struct coverage_question Q(const char *date, enum care_type ct) {
    struct coverage_question q = {.ssin = "85073003328", .ssin_valid = true};
    q.service_date = D(date);
    q.care_type = ct;
    return q;
}

static enum refusal
eval(struct coverage_question q, const struct decision *ds, size_t n, const char *provider,
     struct coverage_result *out)
{
    struct coverage_result r;
    coverage_evaluate(&q, ds, n, provider, today, &r);
    if (out)
        *out = r;
    return r.reason;
}

static void test_refusals(void)
{
    struct decision cov = make(cov_json, "D2026-00000001", DS_ACTIVE);
    struct decision pri = make(principle_json, "D2026-00000002", DS_ACTIVE);
    struct decision dead = make(dead_json, "D2026-00000003", DS_ACTIVE);
    struct coverage_result r;

    is_int(eval(Q("2026-11-20", CT_GENERAL_PRACTICE), &cov, 1, "10000000000", &r), RF_NONE,
           "covered: general practice");
    ok(r.decision == &cov && r.cover == &cov.covers[0], "covered: points into decisions[]");

    struct coverage_question q = Q("2026-11-24", CT_GENERAL_PRACTICE);
    q.ssin_valid = false;
    is_int(eval(q, &cov, 1, NULL, NULL), RF_INVALID_SSIN, "invalid_ssin first (before future)");
    is_int(eval(Q("2026-11-24", CT_GENERAL_PRACTICE), &cov, 1, NULL, NULL),
           RF_SERVICE_DATE_IN_FUTURE, "tomorrow: in future");
    is_int(eval(Q("2026-11-23", CT_GENERAL_PRACTICE), &cov, 1, NULL, NULL), RF_NONE,
           "today: covered");
    is_int(eval(Q("2026-09-22", CT_GENERAL_PRACTICE), NULL, 0, NULL, NULL), RF_SERVICE_DATE_TOO_OLD,
           "2 months and 1 day back: too old");
    is_int(eval(Q("2026-09-23", CT_GENERAL_PRACTICE), NULL, 0, NULL, NULL), RF_NO_DECISION,
           "exactly 2 months back: not too old");
    {
        pdate t = today;
        today = D("2026-05-31"); /* 2 months back clamps to 2026-03-31 */
        is_int(eval(Q("2026-03-31", CT_GENERAL_PRACTICE), NULL, 0, NULL, NULL), RF_NO_DECISION,
               "31 May: 31 March is not too old");
        is_int(eval(Q("2026-03-30", CT_GENERAL_PRACTICE), NULL, 0, NULL, NULL),
               RF_SERVICE_DATE_TOO_OLD, "31 May: 30 March is too old");
        today = D("2026-04-30"); /* 2 months back: 2026-02-28 */
        is_int(eval(Q("2026-02-28", CT_GENERAL_PRACTICE), NULL, 0, NULL, NULL), RF_NO_DECISION,
               "30 April: 28 February is not too old");
        is_int(eval(Q("2026-02-27", CT_GENERAL_PRACTICE), NULL, 0, NULL, NULL),
               RF_SERVICE_DATE_TOO_OLD, "30 April: 27 February is too old");
        today = t;
    }

    struct decision both[2] = {cov, dead};
    is_int(eval(Q("2026-11-10", CT_GENERAL_PRACTICE), both, 2, NULL, NULL), RF_DECEASED,
           "death on the service date: deceased (death date on another decision)");
    is_int(eval(Q("2026-11-20", CT_GENERAL_PRACTICE), both, 2, NULL, NULL), RF_DECEASED,
           "death before the service date: deceased");
    is_int(eval(Q("2026-11-09", CT_GENERAL_PRACTICE), both, 2, NULL, NULL), RF_NONE,
           "death the day after the service date: covered");
    is_int(eval(Q("2026-09-01", CT_GENERAL_PRACTICE), both, 2, NULL, NULL), RF_SERVICE_DATE_TOO_OLD,
           "too old before deceased");

    is_int(eval(Q("2026-11-20", CT_GENERAL_PRACTICE), NULL, 0, NULL, NULL), RF_NO_DECISION,
           "nothing recorded: no_decision");
    is_int(eval(Q("2026-11-20", CT_GENERAL_PRACTICE), &pri, 1, NULL, &r), RF_NO_ACTIVE_DECISION,
           "principle only: no_active_decision");
    ok(r.decision == NULL, "no_active_decision names no decision");
    is_int(eval(Q("2026-09-30", CT_GENERAL_PRACTICE), &cov, 1, NULL, NULL), RF_NO_ACTIVE_DECISION,
           "the day before the decision: no_active_decision");

    struct decision susp = cov;
    susp.status = DS_SUSPENDED;
    is_int(eval(Q("2026-11-20", CT_GENERAL_PRACTICE), &susp, 1, NULL, &r), RF_SUSPENDED,
           "suspended");
    ok(r.decision == &susp && r.cover == NULL, "suspended names the decision");
    is_int(eval(Q("2026-11-20", CT_PARAMEDICAL), &susp, 1, NULL, NULL), RF_SUSPENDED,
           "suspended before care_type_absent");

    struct decision stopped = cov;
    stopped.status = DS_STOPPED;
    stopped.period.end = D("2026-11-15");
    is_int(eval(Q("2026-11-15", CT_GENERAL_PRACTICE), &stopped, 1, NULL, NULL), RF_NONE,
           "stopped decision covers up to its stop date");
    is_int(eval(Q("2026-11-16", CT_GENERAL_PRACTICE), &stopped, 1, NULL, NULL),
           RF_NO_ACTIVE_DECISION, "stopped decision: not after its end");

    struct decision pair[2] = {susp, cov};
    is_int(eval(Q("2026-11-20", CT_GENERAL_PRACTICE), pair, 2, NULL, &r), RF_NONE,
           "suspended next to active: the active one answers");
    ok(r.decision == &pair[1], "the active one is named");

    is_int(eval(Q("2026-11-20", CT_PARAMEDICAL), &cov, 1, NULL, &r), RF_CARE_TYPE_ABSENT,
           "care_type_absent");
    ok(r.decision == &cov && r.cover == NULL, "care_type_absent names the decision");
    is_int(eval(Q("2026-10-31", CT_PHARMACY), &cov, 1, NULL, &r), RF_CARE_TYPE_INACTIVE,
           "care_type_inactive: the day before the cover");
    ok(r.cover == &cov.covers[1], "care_type_inactive names the cover");
    is_int(eval(Q("2026-11-01", CT_PHARMACY), &cov, 1, NULL, NULL), RF_NONE,
           "pharmacy on the cover's first day");
    {
        pdate t = today;
        today = D("2026-12-05");
        is_int(eval(Q("2026-11-30", CT_PHARMACY), &cov, 1, NULL, NULL), RF_NONE,
               "pharmacy on the cover's last day");
        is_int(eval(Q("2026-12-01", CT_PHARMACY), &cov, 1, NULL, NULL), RF_CARE_TYPE_INACTIVE,
               "pharmacy the day after the cover");
        today = t;
    }
    is_int(eval(Q("2026-11-20", CT_MEDICAL_TRANSPORT), &cov, 1, "0212345668", NULL), RF_NONE,
           "designated KBO provider");
    is_int(eval(Q("2026-11-20", CT_MEDICAL_TRANSPORT), &cov, 1, "71012345678", NULL), RF_NONE,
           "designated NIHII provider");
    is_int(eval(Q("2026-11-20", CT_MEDICAL_TRANSPORT), &cov, 1, "0207123407", &r),
           RF_PROVIDER_NOT_DESIGNATED, "provider not on the list");
    ok(r.decision == &cov && r.cover == &cov.covers[2], "provider_not_designated names both");
    is_int(eval(Q("2026-11-20", CT_MEDICAL_TRANSPORT), &cov, 1, NULL, NULL),
           RF_PROVIDER_NOT_DESIGNATED, "no provider identity, list not empty");
    is_int(eval(Q("2026-11-20", CT_GENERAL_PRACTICE), &cov, 1, NULL, NULL), RF_NONE,
           "empty list: any provider");

    /* answers */
    eval(Q("2026-11-20", CT_GENERAL_PRACTICE), &cov, 1, NULL, &r);
    char *s = coverage_encode_answer(&r, LANG_EN);
    is_str(s,
           "{\"covered\":true,\"decision\":{\"id\":\"D2026-00000001\",\"version\":3,\"ocmw\":"
           "\"0212345668\",\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-03-31\"}},"
           "\"cover\":{\"care_type\":\"general_practice\",\"period\":{\"start\":\"2026-10-01\","
           "\"end\":\"2027-03-31\"},\"prescription_required\":true,\"convention\":false,"
           "\"urgent_attestation_required\":true}}",
           "covered answer");
    free(s);
    eval(Q("2026-11-20", CT_PARAMEDICAL), &cov, 1, NULL, &r);
    s = coverage_encode_answer(&r, LANG_NL);
    is_str(s,
           "{\"covered\":false,\"reason\":{\"code\":\"care_type_absent\",\"message\":\"De "
           "beslissing dekt dit soort zorg niet.\"},\"decision\":{\"id\":\"D2026-00000001\","
           "\"version\":3,\"ocmw\":\"0212345668\",\"period\":{\"start\":\"2026-10-01\","
           "\"end\":\"2027-03-31\"}}}",
           "refused answer with the decision, in Dutch");
    free(s);
    eval(Q("2026-11-20", CT_PARAMEDICAL), &pri, 1, NULL, &r);
    s = coverage_encode_answer(&r, LANG_FR);
    is_str(s,
           "{\"covered\":false,\"reason\":{\"code\":\"no_active_decision\",\"message\":\"Aucune "
           "décision d'aide médicale n'est valable à la date de la prestation.\"}}",
           "refused answer without decision, in French");
    free(s);
}

static void test_messages(void)
{
    static const char *codes[RF__COUNT] = {"none",
                                           "invalid_ssin",
                                           "service_date_in_future",
                                           "service_date_too_old",
                                           "deceased",
                                           "no_decision",
                                           "no_active_decision",
                                           "suspended",
                                           "care_type_absent",
                                           "care_type_inactive",
                                           "provider_not_designated"};
    for (int r = 0; r < RF__COUNT; r++) {
        is_str(refusal_code((enum refusal)r), codes[r], "refusal code %d", r);
        const char *en = refusal_message((enum refusal)r, LANG_EN);
        const char *nl = refusal_message((enum refusal)r, LANG_NL);
        const char *fr = refusal_message((enum refusal)r, LANG_FR);
        ok(en && nl && fr && strlen(en) > 10 && strcmp(en, nl) && strcmp(en, fr) && strcmp(nl, fr),
           "three different messages for %s", codes[r]);
        ok(en[strlen(en) - 1] == '.' && nl[strlen(nl) - 1] == '.' && fr[strlen(fr) - 1] == '.',
           "messages for %s are sentences", codes[r]);
    }
    is_str(refusal_message(RF_NO_ACTIVE_DECISION, LANG_EN),
           "No medical-aid decision is valid on the service date.", "en no_active_decision");
    is_str(refusal_message(RF_NO_ACTIVE_DECISION, LANG_NL),
           "Er is geen geldige beslissing tot medische hulp op de datum van de verstrekking.",
           "nl no_active_decision");
}

static void test_lang(void)
{
    static const struct {
        const char *hdr;
        enum lang want;
    } t[] = {
        {NULL, LANG_EN},
        {"", LANG_EN},
        {"nl", LANG_NL},
        {"nl-BE", LANG_NL},
        {"NL-be", LANG_NL},
        {"fr-BE,fr;q=0.9,en;q=0.8", LANG_FR},
        {"en;q=0.5, nl;q=0.8", LANG_NL},
        {"de, fr;q=0.1", LANG_FR},
        {"de", LANG_EN},
        {"*", LANG_EN},
        {"fr;q=0.5, *;q=0.6", LANG_EN},
        {"nl;q=0", LANG_EN},
        {"nl;q=0, fr;q=0.001", LANG_FR},
        {"nlx, fr;q=0.2", LANG_FR},
        {"en-GB;q=0.9, nl-BE", LANG_NL},
        {"fr ; q=0.7 , nl ; q=0.6", LANG_FR},
        {"nl, fr", LANG_NL},
        {"fr, nl", LANG_FR},
        {"nl;q=1.0, fr;q=1", LANG_NL},
        {"nl;q=2, fr;q=0.5", LANG_FR},
        {",,;;q=,", LANG_EN},
        {"fr;level=1;q=0.8, en;q=0.7", LANG_FR},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        is_str(lang_tag(lang_from_accept(t[i].hdr)), lang_tag(t[i].want), "Accept-Language '%s'",
               t[i].hdr ? t[i].hdr : "(null)");
}

static void test_question(void)
{
    struct coverage_question q;
    struct verrs e;
    const char *j = "{\"ssin\":\"85073003328\",\"service_date\":\"2026-11-20\",\"care_type\":"
                    "\"pharmacy\"}";
    is_int(coverage_parse_question(j, strlen(j), &q, &e), PARSE_OK, "question parses");
    ok(q.ssin_valid && strcmp(q.ssin, "85073003328") == 0, "question ssin");
    ok(q.service_date == D("2026-11-20") && q.care_type == CT_PHARMACY, "question date, type");

    j = "{\"ssin\":\"85073003329\",\"service_date\":\"2026-11-20\",\"care_type\":\"pharmacy\"}";
    is_int(coverage_parse_question(j, strlen(j), &q, &e), PARSE_OK,
           "a bad SSIN is not a parse error");
    ok(!q.ssin_valid, "bad SSIN flagged");
    j = "{\"ssin\":\"123456789012345\",\"service_date\":\"2026-11-20\",\"care_type\":"
        "\"pharmacy\"}";
    is_int(coverage_parse_question(j, strlen(j), &q, &e), PARSE_OK, "long SSIN parses");
    ok(!q.ssin_valid && strcmp(q.ssin, "12345678901") == 0, "long SSIN truncated to 11");

    static const struct {
        const char *json, *field, *code;
    } bad[] = {
        {"{\"ssin\":85073003328,\"service_date\":\"2026-11-20\",\"care_type\":\"pharmacy\"}",
         "ssin", "wrong_type"},
        {"{\"service_date\":\"2026-11-20\",\"care_type\":\"pharmacy\"}", "ssin", "required"},
        {"{\"ssin\":\"85073003328\",\"care_type\":\"pharmacy\"}", "service_date", "required"},
        {"{\"ssin\":\"85073003328\",\"service_date\":\"2026-11-31\",\"care_type\":\"pharmacy\"}",
         "service_date", "invalid_date"},
        {"{\"ssin\":\"85073003328\",\"service_date\":\"2026-11-20\",\"care_type\":\"dentist\"}",
         "care_type", "invalid_value"},
        {"{\"ssin\":\"85073003328\",\"service_date\":\"2026-11-20\",\"care_type\":null}",
         "care_type", "required"},
        {"{\"ssin\":\"85073003328\",\"service_date\":\"2026-11-20\",\"care_type\":\"pharmacy\","
         "\"provider\":\"10000000000\"}",
         "provider", "unknown_field"},
        {"{\"ssin\":\"85073003328\",\"ssin\":\"85073003328\",\"service_date\":\"2026-11-20\","
         "\"care_type\":\"pharmacy\"}",
         "ssin", "duplicate_field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum parse_result r = coverage_parse_question(bad[i].json, strlen(bad[i].json), &q, &e);
        bool found = false;
        for (int k = 0; k < e.n; k++)
            if (!strcmp(e.items[k].field, bad[i].field) && !strcmp(e.items[k].code, bad[i].code))
                found = true;
        ok(r == PARSE_INVALID && found, "question refused: %s at %s", bad[i].code, bad[i].field);
    }
    is_int(coverage_parse_question("[1]", 3, &q, &e), PARSE_MALFORMED, "question: array");
    is_int(coverage_parse_question("{", 1, &q, &e), PARSE_MALFORMED, "question: truncated");
    is_int(coverage_parse_question("", 0, &q, &e), PARSE_MALFORMED, "question: empty");
}

int main(void)
{
    today = D("2026-11-23");
    test_refusals();
    test_messages();
    test_lang();
    test_question();
    return done_testing();
}
