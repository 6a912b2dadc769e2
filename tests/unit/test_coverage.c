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
    struct coverage_question qa = Q("2026-11-20", CT_GENERAL_PRACTICE);
    eval(qa, &cov, 1, NULL, &r);
    char *s = coverage_encode_answer(&qa, &r, LANG_EN);
    is_str(s,
           "{\"covered\":true,\"decision\":{\"id\":\"D2026-00000001\",\"version\":3,\"ocmw\":"
           "\"0212345668\",\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-03-31\"}},"
           "\"cover\":{\"care_type\":\"general_practice\",\"period\":{\"start\":\"2026-10-01\","
           "\"end\":\"2027-03-31\"},\"prescription_required\":true,\"convention\":false,"
           "\"urgent_attestation_required\":true}}",
           "covered answer");
    free(s);
    qa = Q("2026-11-20", CT_PARAMEDICAL);
    eval(qa, &cov, 1, NULL, &r);
    s = coverage_encode_answer(&qa, &r, LANG_NL);
    is_str(s,
           "{\"covered\":false,\"reason\":{\"code\":\"care_type_absent\",\"message\":\"De "
           "beslissing dekt dit soort zorg niet.\",\"messages\":{\"nl\":\"De beslissing dekt dit "
           "soort zorg niet.\",\"fr\":\"La décision ne couvre pas ce type de soins.\",\"de\":\"Die "
           "Entscheidung deckt diese Art von Versorgung "
           "nicht.\"}},\"decision\":{\"id\":\"D2026-00000001\","
           "\"version\":3,\"ocmw\":\"0212345668\",\"period\":{\"start\":\"2026-10-01\","
           "\"end\":\"2027-03-31\"}}}",
           "refused answer with the decision, in Dutch");
    free(s);
    eval(qa, &pri, 1, NULL, &r);
    s = coverage_encode_answer(&qa, &r, LANG_FR);
    is_str(s,
           "{\"covered\":false,\"reason\":{\"code\":\"no_active_decision\",\"message\":\"Aucune "
           "décision d'aide médicale n'est valable à la date de la prestation.\",\"messages\":{"
           "\"nl\":\"Er is geen geldige beslissing tot medische hulp op de datum van de "
           "verstrekking.\",\"fr\":\"Aucune décision d'aide médicale n'est valable à la date de "
           "la prestation.\",\"de\":\"Am Datum der Leistung ist keine Entscheidung über "
           "medizinische Hilfe gültig.\"}}}",
           "refused answer without decision, in French");
    free(s);
}

/* provider kinds (DOMAIN.md "Provider kinds") and their place in the precedence */
static void test_kinds(void)
{
    struct decision cov = make(cov_json, "D2026-00000001", DS_ACTIVE);
    struct decision dead = make(dead_json, "D2026-00000003", DS_ACTIVE);
    struct decision both[] = {cov, dead};
    struct coverage_result r;
    struct coverage_question q = Q("2026-11-20", CT_HOSPITALISATION);
    coverage_evaluate_kind(&q, &cov, 1, "10012345678", PK_GENERAL_PRACTITIONER, today, &r);
    is_int(r.reason, RF_PROVIDER_KIND_MISMATCH, "a GP asking hospitalisation: kind mismatch");
    q = Q("2026-11-20", CT_GENERAL_PRACTICE);
    coverage_evaluate_kind(&q, &cov, 1, "10012345678", PK_GENERAL_PRACTITIONER, today, &r);
    is_int(r.reason, RF_NONE, "a GP asking general practice: covered");
    coverage_evaluate_kind(&q, &cov, 1, "71012345678", PK_HOSPITAL, today, &r);
    is_int(r.reason, RF_PROVIDER_KIND_MISMATCH, "a hospital asking general practice: mismatch");
    /* two reasons: the person died before the date and the kind may not ask */
    q = Q("2026-11-20", CT_PHARMACY);
    coverage_evaluate_kind(&q, both, 2, "10012345678", PK_GENERAL_PRACTITIONER, today, &r);
    is_int(r.reason, RF_PROVIDER_KIND_MISMATCH, "deceased and kind mismatch: kind mismatch first");
    coverage_evaluate_kind(&q, both, 2, "10012345678", PK_PHARMACY, today, &r);
    is_int(r.reason, RF_DECEASED, "the pharmacy asking pharmacy for the dead: deceased");
    q = Q("2026-09-01", CT_HOSPITALISATION);
    coverage_evaluate_kind(&q, &cov, 1, "10012345678", PK_GENERAL_PRACTITIONER, today, &r);
    is_int(r.reason, RF_SERVICE_DATE_TOO_OLD, "too old and kind mismatch: too old first");
    q = Q("2026-11-20", CT_MEDICAL_TRANSPORT);
    coverage_evaluate(&q, &cov, 1, "10012345678", today, &r);
    is_int(r.reason, RF_PROVIDER_NOT_DESIGNATED, "no kind (PK_NONE): every care type is asked");

    static const struct {
        enum provider_kind k;
        unsigned may; /* bits of enum care_type */
    } table[] = {
        {PK_HOSPITAL, (1u << CT_HOSPITALISATION) | (1u << CT_AMBULATORY_HOSPITAL) |
                          (1u << CT_PHARMACY) | (1u << CT_MEDICAL_TRANSPORT) |
                          (1u << CT_MISCELLANEOUS)},
        {PK_GENERAL_PRACTITIONER, (1u << CT_GENERAL_PRACTICE) | (1u << CT_MISCELLANEOUS)},
        {PK_PHARMACY, 1u << CT_PHARMACY},
        {PK_PARAMEDICAL, 1u << CT_PARAMEDICAL},
        {PK_MEDICAL_TRANSPORT, 1u << CT_MEDICAL_TRANSPORT},
        {PK_PROSTHESIS, 1u << CT_PROSTHESIS},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        unsigned got = 0;
        for (int t = 0; t < CT__COUNT; t++)
            got |= provider_kind_may_ask(table[i].k, (enum care_type)t) ? 1u << t : 0;
        is_int((int)got, (int)table[i].may, "kind %s: its care types",
               provider_kind_name(table[i].k));
        enum provider_kind back;
        ok(provider_kind_from_name(provider_kind_name(table[i].k), &back) && back == table[i].k,
           "kind %s: name round trip", provider_kind_name(table[i].k));
    }
    enum provider_kind k;
    ok(!provider_kind_from_name("", &k) && !provider_kind_from_name("gp", &k),
       "kind: unknown names refused");
    ok(provider_kind_org_valid(PK_HOSPITAL, "71012345678") &&
           provider_kind_org_valid(PK_HOSPITAL, "72012345678") &&
           !provider_kind_org_valid(PK_HOSPITAL, "10012345678") &&
           !provider_kind_org_valid(PK_HOSPITAL, "7101234567"),
       "hospital: NIHII starting 710 or 720");
    ok(provider_kind_org_valid(PK_MEDICAL_TRANSPORT, "0212345668") &&
           !provider_kind_org_valid(PK_PROSTHESIS, "10012345678") &&
           !provider_kind_org_valid(PK_PROSTHESIS, "0212345669"),
       "transport, prosthesis: a KBO number");
    ok(provider_kind_org_valid(PK_GENERAL_PRACTITIONER, "10012345678") &&
           !provider_kind_org_valid(PK_PHARMACY, "0212345668"),
       "GP, pharmacy: a NIHII number");
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
                                           "provider_not_designated",
                                           "unknown_code",
                                           "provider_kind_mismatch"};
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

static void test_items_query(void)
{
    struct coverage_question q;
    ok(coverage_items_from_query("101076:2,102011,300012:1:500:room", &q) && q.n_items == 3 &&
           strcmp(q.items[0].code, "101076") == 0 && q.items[0].quantity == 2 &&
           q.items[1].quantity == 1 && q.items[1].supplements_cents == 0 &&
           q.items[2].supplements_cents == 500 && q.items[2].has_supplement_type &&
           strcmp(q.items[2].supplement_type, "room") == 0,
       "items from a query: code, quantity, supplements, type");
    ok(coverage_items_from_query("101076:999:1000000000", &q) && q.items[0].quantity == 999 &&
           q.items[0].supplements_cents == 1000000000,
       "the upper bounds are allowed");
    static const char *const bad[] = {"",
                                      "10107",
                                      "1010761",
                                      "101076:0",
                                      "101076:1000",
                                      "101076:1:1000000001",
                                      "101076:1:-1",
                                      "101076::",
                                      "101076,",
                                      ",101076",
                                      "101076:1:0:Room",
                                      "101076:1:0:room:x",
                                      "10107a",
                                      "101076:x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ok(!coverage_items_from_query(bad[i], &q), "items '%s' refused", bad[i]);
    char many[65 * 7 + 1] = "";
    for (int i = 0; i < 64; i++)
        strcat(many, i ? ",101076" : "101076");
    ok(coverage_items_from_query(many, &q) && q.n_items == 64, "64 items");
    strcat(many, ",101076");
    ok(!coverage_items_from_query(many, &q), "65 items refused");
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
        {"de, fr;q=0.1", LANG_DE},
        {"de", LANG_DE},
        {"de-BE", LANG_DE},
        {"it, de;q=0.3, fr;q=0.2", LANG_DE},
        {"de;q=0.4, nl;q=0.5", LANG_NL},
        {"it", LANG_EN},
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
    j = "{\"ssin\":\"1234567890\xc3\xa9\",\"service_date\":\"2026-11-20\",\"care_type\":"
        "\"pharmacy\"}";
    is_int(coverage_parse_question(j, strlen(j), &q, &e), PARSE_OK, "a long UTF-8 SSIN parses");
    ok(!q.ssin_valid && strcmp(q.ssin, "1234567890") == 0,
       "a long SSIN is cut at a character boundary");

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
        /* invalid UTF-8 anywhere refuses the question: never an altered one answered */
        {"{\"ssin\":\"8507300332\xff\",\"service_date\":\"2026-11-20\",\"care_type\":"
         "\"pharmacy\"}",
         "ssin", "invalid_utf8"},
        {"{\"ssin\":\"85073003328\xed\xa0\x80\",\"service_date\":\"2026-11-20\","
         "\"care_type\":\"pharmacy\"}",
         "ssin", "invalid_utf8"},
        {"{\"ssin\":\"85073003328\",\"service_date\":\"2026-11-20\",\"care_type\":\"pharmacy\","
         "\"items\":[{\"code\":\"101076\",\"quantity\":9007199254740993}]}",
         "items[0].quantity", "out_of_range"},
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

/* ---- items: the question's codes and the split --------------------------------- */

static bool has_err(const struct verrs *e, const char *field, const char *code)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->items[i].field, field) == 0 && strcmp(e->items[i].code, code) == 0)
            return true;
    return false;
}

#define QHEAD "{\"ssin\":\"85073003328\",\"service_date\":\"2026-11-20\",\"care_type\":\"pharmacy\""

static void test_items_parse(void)
{
    struct coverage_question q;
    struct verrs e;
    const char *j = QHEAD ",\"items\":[{\"code\":\"101076\"},{\"code\":\"000000\",\"quantity\":999,"
                          "\"supplements_cents\":1000000000,\"supplement_type\":"
                          "\"abcdefghijklmnopqrstuvwxyz_01234\"}]}";
    is_int(coverage_parse_question(j, strlen(j), &q, &e), PARSE_OK, "items: parse");
    ok(q.n_items == 2 && strcmp(q.items[0].code, "101076") == 0 && q.items[0].quantity == 1 &&
           q.items[0].supplements_cents == 0 && !q.items[0].has_supplement_type,
       "items: defaults (quantity 1, no supplements)");
    ok(strcmp(q.items[1].code, "000000") == 0 && q.items[1].quantity == 999 &&
           q.items[1].supplements_cents == 1000000000 && q.items[1].has_supplement_type &&
           strcmp(q.items[1].supplement_type, "abcdefghijklmnopqrstuvwxyz_01234") == 0,
       "items: upper bounds, 32-character supplement type");
    j = QHEAD ",\"items\":[]}";
    ok(coverage_parse_question(j, strlen(j), &q, &e) == PARSE_OK && q.n_items == 0,
       "items: empty list");
    j = QHEAD "}";
    ok(coverage_parse_question(j, strlen(j), &q, &e) == PARSE_OK && q.n_items == 0,
       "items: absent");

    static const struct {
        const char *items, *field, *code;
    } bad[] = {
        {"{}", "items", "wrong_type"},
        {"null", "items", "wrong_type"},
        {"[1]", "items[0]", "wrong_type"},
        {"[{}]", "items[0].code", "required"},
        {"[{\"code\":101076}]", "items[0].code", "wrong_type"},
        {"[{\"code\":\"10107\"}]", "items[0].code", "invalid_code"},
        {"[{\"code\":\"1010760\"}]", "items[0].code", "invalid_code"},
        {"[{\"code\":\"10107a\"}]", "items[0].code", "invalid_code"},
        {"[{\"code\":\"101076\"},{\"code\":\"\"}]", "items[1].code", "invalid_code"},
        {"[{\"code\":\"101076\",\"quantity\":0}]", "items[0].quantity", "out_of_range"},
        {"[{\"code\":\"101076\",\"quantity\":1000}]", "items[0].quantity", "out_of_range"},
        {"[{\"code\":\"101076\",\"quantity\":-1}]", "items[0].quantity", "out_of_range"},
        {"[{\"code\":\"101076\",\"quantity\":1.5}]", "items[0].quantity", "not_integer"},
        {"[{\"code\":\"101076\",\"quantity\":\"2\"}]", "items[0].quantity", "wrong_type"},
        {"[{\"code\":\"101076\",\"supplements_cents\":-1}]", "items[0].supplements_cents",
         "out_of_range"},
        {"[{\"code\":\"101076\",\"supplements_cents\":1000000001}]", "items[0].supplements_cents",
         "out_of_range"},
        {"[{\"code\":\"101076\",\"supplement_type\":\"Room\"}]", "items[0].supplement_type",
         "invalid_supplement_type"},
        {"[{\"code\":\"101076\",\"supplement_type\":\"\"}]", "items[0].supplement_type",
         "invalid_supplement_type"},
        {"[{\"code\":\"101076\",\"supplement_type\":\"abcdefghijklmnopqrstuvwxyz_012345\"}]",
         "items[0].supplement_type", "invalid_supplement_type"},
        {"[{\"code\":\"101076\",\"supplement_type\":null}]", "items[0].supplement_type",
         "wrong_type"},
        {"[{\"code\":\"101076\",\"price\":1}]", "items[0].price", "unknown_field"},
        {"[{\"code\":\"101076\",\"quantity\":1,\"quantity\":2}]", "items[0].quantity",
         "duplicate_field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, QHEAD ",\"items\":%s}", bad[i].items);
        enum parse_result r = coverage_parse_question(buf, strlen(buf), &q, &e);
        ok(r == PARSE_INVALID && has_err(&e, bad[i].field, bad[i].code), "items refused: %s at %s",
           bad[i].code, bad[i].field);
    }

    /* 64 items accepted, 65 refused */
    char big[4096];
    for (int n = 64; n <= 65; n++) {
        size_t len = (size_t)snprintf(big, sizeof big, QHEAD ",\"items\":[");
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(big + len, sizeof big - len, "%s{\"code\":\"%06d\"}",
                                    i ? "," : "", i);
        len += (size_t)snprintf(big + len, sizeof big - len, "]}");
        enum parse_result r = coverage_parse_question(big, len, &q, &e);
        if (n == 64)
            ok(r == PARSE_OK && q.n_items == 64 && strcmp(q.items[63].code, "000063") == 0,
               "items: 64 accepted");
        else
            ok(r == PARSE_INVALID && has_err(&e, "items", "too_many"), "items: 65 too_many");
    }
}

static const char *split_json =
    "{\"kind\":\"coverage\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-03-31\"},"
    "\"state_share\":{\"hospitalisation\":{\"insurance_pct\":100,\"patient_share_pct\":100},"
    "\"ambulatory_hospital\":{\"insurance_pct\":100,\"patient_share_pct\":0},"
    "\"other\":{\"insurance_pct\":50,\"patient_share_pct\":50}},\"covers\":["
    "{\"care_type\":\"general_practice\",\"period\":{\"start\":\"2026-10-01\",\"end\":"
    "\"2027-03-31\"},\"ocmw_pays\":{\"insurance_part\":\"partial\",\"patient_share\":"
    "\"partial\",\"supplements\":\"none\"},\"patient_share_cap_cents\":1000},"
    "{\"care_type\":\"hospitalisation\",\"period\":{\"start\":\"2026-10-01\",\"end\":"
    "\"2027-03-31\"},\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"none\","
    "\"supplements\":\"partial\"},\"supplements_cap_cents\":5000,"
    "\"allowed_supplement_types\":[\"room\"]},"
    "{\"care_type\":\"ambulatory_hospital\",\"period\":{\"start\":\"2026-10-01\",\"end\":"
    "\"2027-03-31\"},\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\","
    "\"supplements\":\"full\"}}]}";

static struct tariff T(const char *code, const char *start, const char *end, long long fee,
                       long long share, unsigned types) {
    struct tariff t;
    memset(&t, 0, sizeof t);
    snprintf(t.code, sizeof t.code, "%s", code);
    t.period.start = D(start);
    t.period.end = D(end);
    t.fee_cents = fee;
    t.patient_share_cents = share;
    t.care_types = types;
    return t;
}

#define GP  (1u << CT_GENERAL_PRACTICE)
#define HOS (1u << CT_HOSPITALISATION)

static void
item(struct coverage_question *q, const char *code, int qty, long long supp, const char *type)
{
    struct coverage_item *it = &q->items[q->n_items++];
    memset(it, 0, sizeof *it);
    snprintf(it->code, sizeof it->code, "%s", code);
    it->quantity = qty;
    it->supplements_cents = supp;
    if (type) {
        it->has_supplement_type = true;
        snprintf(it->supplement_type, sizeof it->supplement_type, "%s", type);
    }
}

static bool amounts(const struct item_answer *a, long long fee, long long state, long long ocmw,
                    long long patient)
{
    return !a->refused && a->split.fee_cents == fee && a->split.state_cents == state &&
           a->split.ocmw_cents == ocmw && a->split.patient_cents == patient;
}

static void test_items_split(void)
{
    struct decision d = make(split_json, "D2026-00000009", DS_ACTIVE);
    const struct tariff tariffs[] = {
        T("104000", "2026-01-01", "2026-12-31", 1001, 1001, GP),
        T("101076", "2027-01-01", "2027-12-31", 9999, 0, GP), /* later */
        T("101076", "2026-01-01", "2026-12-31", 3001, 601, GP | (1u << CT_PARAMEDICAL)),
        T("102771", "2026-01-01", "2026-12-31", 2000, 400, 1u << CT_PHARMACY), /* other type */
        T("103000", "2026-12-01", "2026-12-31", 2000, 400, GP),                /* not yet valid */
        T("105000", "2026-01-01", "2026-12-31", 10001, 2001, HOS),
    };
    const size_t nt = sizeof tariffs / sizeof tariffs[0];

    struct coverage_question q = Q("2026-11-20", CT_GENERAL_PRACTICE);
    item(&q, "101076", 1, 0, NULL);
    item(&q, "101076", 2, 0, NULL);
    item(&q, "102771", 1, 0, NULL);
    item(&q, "103000", 1, 0, NULL);
    item(&q, "999999", 1, 0, NULL);
    item(&q, "104000", 1, 500, "room");
    struct coverage_result r;
    coverage_evaluate(&q, &d, 1, NULL, today, &r);
    is_int(r.reason, RF_NONE, "split: covered");
    coverage_split(&q, tariffs, nt, 0, &r);
    is_int(r.n_items, 6, "split: six items answered");
    /* other: state 50/50. 101076: insurance 2400 -> state 1200, OCMW half of 1200 = 600;
     * share 601 -> state 301, OCMW 300 of the 1000 cap */
    ok(amounts(&r.items[0], 3001, 1501, 900, 600), "split: 101076 x 1");
    /* x 2: 6002 / 1202: state 2400 + 601, OCMW 1200 + 601 (cap 700 left) */
    ok(amounts(&r.items[1], 6002, 3001, 1801, 1200), "split: 101076 x 2 (quantity)");
    ok(r.items[2].refused, "split: a tariff for another care type -> unknown_code");
    ok(r.items[3].refused, "split: a tariff not valid on the service date -> unknown_code");
    ok(r.items[4].refused, "split: a code without tariff -> unknown_code");
    /* 104000: share 1001 -> state 501, OCMW 99 (what is left of the cap); supplements: the
     * OCMW pays none on this cover, the patient pays them */
    ok(amounts(&r.items[5], 1001, 501, 99, 901) && r.items[5].split.supplements_cents == 500,
       "split: cap exhausted mid-answer, supplements to the patient");
    ok(r.totals.fee_cents == 10004 && r.totals.supplements_cents == 500 &&
           r.totals.state_cents == 5003 && r.totals.ocmw_cents == 2800 &&
           r.totals.patient_cents == 2701 && r.totals.ocmw_patient_share_cents == 1000,
       "split: totals exclude the refused items");
    {
        struct cap_state cs;
        ok(coverage_patient_share_cap(&r, &cs) && cs.cap_cents == 1000 && cs.used_cents == 0 &&
               cs.granted_cents == 1000 && cs.remaining_cents == 0,
           "caps: patient share 1000 cap, 0 used, 1000 granted, 0 left");
        ok(!coverage_supplements_cap(&r, &cs), "caps: no supplements cap on this cover");
        {
            struct coverage_result r0;
            coverage_evaluate(&q, &d, 1, NULL, today, &r0);
            char *a0 = coverage_encode_answer(&q, &r0, LANG_EN);
            ok(!coverage_patient_share_cap(&r0, &cs) && (a0 == NULL || !strstr(a0, "caps")),
               "caps: not split (as of), no cap state");
            free(a0);
        }
        char *a = coverage_encode_answer(&q, &r, LANG_EN);
        char want[160];
        coverage_cap_text("patient_share", &cs, want, sizeof want);
        ok(a && strstr(a, "\"caps\":{") && strstr(a, want), "caps: in the answer as %s", want);
        free(a);
        struct coverage_result r2;
        coverage_evaluate(&q, &d, 1, NULL, today, &r2);
        coverage_split(&q, tariffs, nt, 400, &r2);
        ok(coverage_patient_share_cap(&r2, &cs) && cs.used_cents == 400 &&
               cs.granted_cents == 600 && cs.remaining_cents == 0 &&
               cs.used_cents + cs.granted_cents + cs.remaining_cents == cs.cap_cents,
           "caps: 400 used before: 600 granted, nothing left");
        struct coverage_question q1 = Q("2026-11-20", CT_GENERAL_PRACTICE);
        item(&q1, "101076", 1, 0, NULL);
        coverage_evaluate(&q1, &d, 1, NULL, today, &r2);
        coverage_split(&q1, tariffs, nt, 100, &r2);
        ok(coverage_patient_share_cap(&r2, &cs) && cs.used_cents == 100 &&
               cs.granted_cents == 300 && cs.remaining_cents == 600,
           "caps: 100 used, 300 granted, 600 left");
    }

    /* the month's used amount reduces the OCMW share */
    coverage_evaluate(&q, &d, 1, NULL, today, &r);
    coverage_split(&q, tariffs, nt, 800, &r);
    ok(amounts(&r.items[0], 3001, 1501, 800, 700) && amounts(&r.items[1], 6002, 3001, 1200, 1801) &&
           amounts(&r.items[5], 1001, 501, 0, 1000),
       "split: 800 of 1000 used this month: 200 left for this answer");
    coverage_evaluate(&q, &d, 1, NULL, today, &r);
    coverage_split(&q, tariffs, nt, 1000, &r);
    ok(r.totals.ocmw_patient_share_cents == 0 && amounts(&r.items[0], 3001, 1501, 600, 900),
       "split: cap used up this month: OCMW pays no patient share");

    /* the state's share is that of the care type's domain; supplements partial */
    struct coverage_question h = Q("2026-11-20", CT_HOSPITALISATION);
    item(&h, "105000", 1, 3000, "room");
    item(&h, "105000", 1, 3000, "room");
    item(&h, "105000", 1, 3000, "tv");
    item(&h, "101076", 1, 0, NULL); /* a GP code: not for hospitalisation */
    coverage_evaluate(&h, &d, 1, NULL, today, &r);
    coverage_split(&h, tariffs, nt, 0, &r);
    ok(amounts(&r.items[0], 10001, 10001, 3000, 0) &&
           amounts(&r.items[1], 10001, 10001, 2000, 1000) &&
           amounts(&r.items[2], 10001, 10001, 0, 3000) && r.items[3].refused,
       "split: hospitalisation 100/100, supplements cap 5000 for allowed types only");

    /* a refused answer: nothing split, no items in the answer */
    struct coverage_question p = Q("2026-11-20", CT_PARAMEDICAL);
    item(&p, "101076", 1, 0, NULL);
    coverage_evaluate(&p, &d, 1, NULL, today, &r);
    coverage_split(&p, tariffs, nt, 0, &r);
    is_int(r.n_items, 0, "split: a refused answer has no items");
    char *s = coverage_encode_answer(&p, &r, LANG_EN);
    ok(s != NULL && strstr(s, "\"items\"") == NULL && strstr(s, "care_type_absent") != NULL,
       "encode: a refused answer carries no items");
    free(s);

    /* encode: the exact text of a small case */
    struct coverage_question e = Q("2026-11-20", CT_GENERAL_PRACTICE);
    item(&e, "101076", 1, 0, NULL);
    item(&e, "999999", 3, 0, NULL);
    coverage_evaluate(&e, &d, 1, NULL, today, &r);
    coverage_split(&e, tariffs, nt, 0, &r);
    s = coverage_encode_answer(&e, &r, LANG_EN);
    is_str(s,
           "{\"covered\":true,\"decision\":{\"id\":\"D2026-00000009\",\"version\":3,\"ocmw\":"
           "\"0212345668\",\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-03-31\"}},"
           "\"cover\":{\"care_type\":\"general_practice\",\"period\":{\"start\":\"2026-10-01\","
           "\"end\":\"2027-03-31\"},\"prescription_required\":false,\"convention\":false,"
           "\"urgent_attestation_required\":false},"
           "\"items\":[{\"code\":\"101076\",\"quantity\":1,\"fee_cents\":3001,\"state_cents\":"
           "1501,\"ocmw_cents\":900,\"patient_cents\":600},{\"code\":\"999999\",\"quantity\":3,"
           "\"refused\":{\"code\":\"unknown_code\",\"message\":\"No tariff is known for this "
           "code for this type of care on the service date.\",\"messages\":{\"nl\":\"Voor deze "
           "code is er geen tarief bekend voor dit soort zorg op de datum van de verstrekking.\","
           "\"fr\":\"Aucun tarif n'est connu pour ce code pour ce type de soins à la date de la "
           "prestation.\",\"de\":\"Für diesen Code ist am Datum der Leistung kein Tarif für "
           "diese Art von Versorgung bekannt.\"}}}],"
           "\"totals\":{\"fee_cents\":3001,\"state_cents\":1501,\"ocmw_cents\":900,"
           "\"patient_cents\":600},\"caps\":{\"patient_share\":{\"cap_cents\":1000,"
           "\"used_cents\":0,\"granted_cents\":300,\"remaining_cents\":700}}}",
           "encode: items and totals, a refused item, the cap's state");
    free(s);
    s = coverage_encode_answer(&e, &r, LANG_FR);
    ok(s != NULL && strstr(s, "\"message\":\"Aucun tarif n'est connu pour ce code") != NULL,
       "encode: the refused item's message in French");
    free(s);

    /* supplements_cents appears where supplements were asked */
    struct coverage_question e2 = Q("2026-11-20", CT_GENERAL_PRACTICE);
    item(&e2, "104000", 1, 0, NULL);
    item(&e2, "104000", 1, 250, "room");
    coverage_evaluate(&e2, &d, 1, NULL, today, &r);
    coverage_split(&e2, tariffs, nt, 1000, &r);
    s = coverage_encode_answer(&e2, &r, LANG_EN);
    ok(s != NULL &&
           strstr(s, "\"items\":[{\"code\":\"104000\",\"quantity\":1,\"fee_cents\":1001,"
                     "\"state_cents\":501,\"ocmw_cents\":0,\"patient_cents\":500},{\"code\":"
                     "\"104000\",\"quantity\":1,\"fee_cents\":1001,\"state_cents\":501,"
                     "\"ocmw_cents\":0,\"patient_cents\":750,\"supplements_cents\":250}],"
                     "\"totals\":{\"fee_cents\":2002,\"state_cents\":1002,\"ocmw_cents\":0,"
                     "\"patient_cents\":1250,\"supplements_cents\":250},\"caps\":{"
                     "\"patient_share\":{\"cap_cents\":1000,\"used_cents\":1000,"
                     "\"granted_cents\":0,\"remaining_cents\":0}}}") != NULL,
       "encode: supplements_cents on the item that asked them and in the totals; cap used up");
    free(s);

    /* all items refused: items listed, totals zero */
    struct coverage_question e3 = Q("2026-11-20", CT_GENERAL_PRACTICE);
    item(&e3, "000000", 1, 0, NULL);
    coverage_evaluate(&e3, &d, 1, NULL, today, &r);
    coverage_split(&e3, NULL, 0, 0, &r);
    s = coverage_encode_answer(&e3, &r, LANG_NL);
    ok(s != NULL &&
           strstr(s, "\"refused\":{\"code\":\"unknown_code\",\"message\":\"Voor deze code") &&
           strstr(s, "\"totals\":{\"fee_cents\":0,\"state_cents\":0,\"ocmw_cents\":0,"
                     "\"patient_cents\":0},\"caps\":"),
       "encode: no tariff at all: every item refused, totals 0 (Dutch)");
    free(s);

    /* items asked but never split: no answer rather than a guarantee without amounts */
    coverage_evaluate(&e3, &d, 1, NULL, today, &r);
    s = coverage_encode_answer(&e3, &r, LANG_EN);
    ok(s == NULL, "encode: items not split -> NULL");
    free(s);
}

int main(void)
{
    today = D("2026-11-23");
    test_refusals();
    test_kinds();
    test_messages();
    test_lang();
    test_items_query();
    test_question();
    test_items_parse();
    test_items_split();
    return done_testing();
}
