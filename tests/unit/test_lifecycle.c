/* unit tests: proto/lifecycle (change rules, stop, empty bodies, summary) and
 * decision_parse_update; every rule with a boundary case on each side */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "decision.h"
#include "lifecycle.h"
#include "fixtures.h"
#include "tap.h"

/* today is 2026-11-23; yesterday 2026-11-22; the day before 2026-11-21 */
static pdate today;

/* the current version: started in the past, ends in the future; covers:
 * 0 general_practice (whole period), 1 pharmacy (starts in the future),
 * 2 paramedical (ended yesterday), 3 miscellaneous (ended the day before) */
static const char *cur_json =
    "{\"kind\":\"coverage\","
    "\"beneficiary\":{\"ssin\":\"85073003328\",\"death_date\":null},"
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-03-31\"},"
    "\"reference\":\"2026/1234\",\"urgent_attestation_required\":false,"
    "\"state_share\":{\"hospitalisation\":{\"insurance_pct\":100,\"patient_share_pct\":100},"
    "\"ambulatory_hospital\":{\"insurance_pct\":100,\"patient_share_pct\":50},"
    "\"other\":{\"insurance_pct\":100,\"patient_share_pct\":0}},"
    "\"covers\":["
    "{\"care_type\":\"general_practice\","
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2027-03-31\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"partial\",\"supplements\":"
    "\"none\"},\"patient_share_cap_cents\":5000},"
    "{\"care_type\":\"pharmacy\","
    "\"period\":{\"start\":\"2026-12-01\",\"end\":\"2027-02-28\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\",\"supplements\":"
    "\"none\"}},"
    "{\"care_type\":\"paramedical\","
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2026-11-22\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\",\"supplements\":"
    "\"none\"}},"
    "{\"care_type\":\"miscellaneous\","
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2026-11-21\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\",\"supplements\":"
    "\"none\"}}"
    "]}";

/* a decision that starts in the future */
static const char *fut_json =
    "{\"kind\":\"coverage\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
    "\"period\":{\"start\":\"2026-12-01\",\"end\":\"2027-05-31\"},"
    "\"state_share\":{\"hospitalisation\":{\"insurance_pct\":100,\"patient_share_pct\":100},"
    "\"ambulatory_hospital\":{\"insurance_pct\":100,\"patient_share_pct\":100},"
    "\"other\":{\"insurance_pct\":100,\"patient_share_pct\":0}},"
    "\"covers\":[{\"care_type\":\"general_practice\","
    "\"period\":{\"start\":\"2026-12-01\",\"end\":\"2027-05-31\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\",\"supplements\":"
    "\"none\"}}]}";

/* a principle decision that ended yesterday (and one the day before) */
static const char *ended_json =
    "{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2026-11-22\"}}";

static struct decision cur, out;
static struct verrs errs;

/* the documents are edited with doc_at/doc_set/doc_del/doc_str/doc_raw (fixtures.h) */

/* ---- checks ------------------------------------------------------------------ */

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

static bool has_code(const char *code)
{
    for (int i = 0; i < errs.n; i++)
        if (strcmp(errs.items[i].code, code) == 0)
            return true;
    return false;
}

/* parse a current version as it was recorded on day `when` */
static void load(struct decision *d, const char *json, pdate when)
{
    struct verrs e;
    enum parse_result r = decision_parse_input(json, strlen(json), when, d, &e);
    if (r != PARSE_OK)
        diag("fixture refused: %s", e.n ? e.items[0].code : "?");
    d->has_meta = true;
    snprintf(d->id, sizeof d->id, "D2026-00000042");
    d->version = 3;
    d->status = DS_ACTIVE;
    snprintf(d->ocmw, sizeof d->ocmw, "0212345668");
    snprintf(d->recorded_at, sizeof d->recorded_at, "2026-10-01T09:00:00Z");
}

static enum parse_result update_text(const struct decision *c, const char *text, size_t len)
{
    return decision_parse_update(text, len, today, c, &out, &errs);
}

static enum parse_result update(const struct decision *c, cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    enum parse_result r = update_text(c, text, strlen(text));
    free(text);
    cJSON_Delete(doc);
    return r;
}

static void expect_ok(const struct decision *c, cJSON *doc, const char *name)
{
    enum parse_result r = update(c, doc);
    if (!ok(r == PARSE_OK && errs.n == 0, "change accepted: %s", name))
        dump_errs();
}

static void expect_err(const struct decision *c, cJSON *doc, const char *field, const char *code,
                       const char *name)
{
    enum parse_result r = update(c, doc);
    if (!ok(r == PARSE_INVALID && has_err(field, code), "change refused %s at '%s': %s", code,
            field, name))
        dump_errs();
}

static cJSON *doc_cur(void)
{
    return cJSON_Parse(cur_json);
}

static cJSON *doc_fut(void)
{
    return cJSON_Parse(fut_json);
}

/* ---- decision_parse_update / decision_check_change ---------------------------- */

static void test_unchanged(void)
{
    expect_ok(&cur, doc_cur(), "the same document again");
    is_int(out.n_covers, 4, "four covers kept");
    ok(!out.has_meta, "an update carries no meta");
    struct verrs e;
    verrs_init(&e);
    ok(decision_check_change(&cur, &cur, today, &e) && e.n == 0,
       "decision_check_change: a version against itself");

    is_int(update_text(&cur, "{\"kind\":", 8), PARSE_MALFORMED, "update: malformed JSON");
    is_int(update_text(&cur, "[]", 2), PARSE_MALFORMED, "update: an array");
    cJSON *d = doc_cur();
    doc_set(d, "id", doc_str("D2026-00000042"));
    expect_err(&cur, d, "id", "read_only_field", "update carrying an id");
    d = doc_cur();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("0"));
    expect_err(&cur, d, "covers[0].patient_share_cap_cents", "out_of_range",
               "the field rules still apply to an update");
}

static void test_immutable(void)
{
    cJSON *d = doc_cur();
    doc_set(d, "kind", doc_str("principle"));
    doc_del(d, "state_share");
    doc_del(d, "covers");
    expect_err(&cur, d, "kind", "immutable_field", "coverage -> principle");
    ok(!has_err("beneficiary.ssin", "immutable_field"), "  (and only the kind is blamed)");

    struct decision ended;
    load(&ended, ended_json, date_from_ymd(2026, 10, 1));
    d = doc_fut();
    doc_set(d, "period.start", doc_str("2026-11-23"));
    doc_set(d, "covers.0.period.start", doc_str("2026-11-23"));
    expect_err(&ended, d, "kind", "immutable_field", "principle -> coverage");

    d = doc_cur();
    doc_set(d, "beneficiary.ssin", doc_str("17073003384"));
    expect_err(&cur, d, "beneficiary.ssin", "immutable_field", "another (valid) SSIN");
    d = doc_cur();
    doc_set(d, "beneficiary.ssin", doc_str("85073003328"));
    expect_ok(&cur, d, "the same SSIN");
}

static void test_decision_start(void)
{
    /* a start in the past cannot move, either way */
    cJSON *d = doc_cur();
    doc_set(d, "period.start", doc_str("2026-10-02"));
    for (int i = 0; i < 4; i++) {
        char p[40];
        snprintf(p, sizeof p, "covers.%d.period.start", i);
        if (i != 1)
            doc_set(d, p, doc_str("2026-10-02"));
    }
    expect_err(&cur, d, "period.start", "retroactive_change", "past start moved a day later");
    d = doc_cur();
    doc_set(d, "period.start", doc_str("2026-09-30"));
    expect_err(&cur, d, "period.start", "retroactive_change", "past start moved a day earlier");
    d = doc_cur();
    doc_set(d, "period.start", doc_str("2026-11-23"));
    doc_set(d, "covers.0.period.start", doc_str("2026-11-23"));
    doc_del(d, "covers.3");
    doc_del(d, "covers.2");
    expect_err(&cur, d, "period.start", "retroactive_change", "past start moved to today");

    /* a start in the future may move, but not before today */
    struct decision fut;
    load(&fut, fut_json, today);
    d = doc_fut();
    doc_set(d, "period.start", doc_str("2026-11-23"));
    doc_set(d, "covers.0.period.start", doc_str("2026-11-23"));
    expect_ok(&fut, d, "future start moved to today");
    ok(out.period.start == today && out.covers[0].period.start == today, "  start is today");
    d = doc_fut();
    doc_set(d, "period.start", doc_str("2026-11-22"));
    doc_set(d, "covers.0.period.start", doc_str("2026-11-22"));
    expect_err(&fut, d, "period.start", "retroactive_change", "future start moved to yesterday");
    ok(has_err("covers[0].period.start", "retroactive_change"), "  cover start also blamed");
    d = doc_fut();
    doc_set(d, "period.start", doc_str("2026-12-15"));
    doc_set(d, "covers.0.period.start", doc_str("2026-12-15"));
    expect_ok(&fut, d, "future start moved later");
    d = doc_fut();
    doc_set(d, "period.start", doc_str("2026-11-22"));
    expect_err(&fut, d, "period.start", "retroactive_change",
               "future start to yesterday, cover unchanged");
}

static void test_decision_end(void)
{
    /* shortening: to today at the earliest */
    cJSON *d = doc_cur();
    doc_set(d, "period.end", doc_str("2026-11-23"));
    doc_set(d, "covers.0.period.end", doc_str("2026-11-23"));
    doc_del(d, "covers.1");
    expect_ok(&cur, d, "end shortened to today");
    ok(out.period.end == today, "  end is today");
    d = doc_cur();
    doc_set(d, "period.end", doc_str("2026-11-22"));
    doc_set(d, "covers.0.period.end", doc_str("2026-11-22"));
    doc_del(d, "covers.1");
    expect_err(&cur, d, "period.end", "retroactive_change", "end shortened to yesterday");
    ok(has_err("covers[0].period.end", "retroactive_change"), "  cover end also blamed");
    d = doc_cur();
    doc_set(d, "period.end", doc_str("2027-03-30"));
    doc_set(d, "covers.0.period.end", doc_str("2027-03-30"));
    expect_ok(&cur, d, "end shortened by a day in the future");
    d = doc_cur();
    doc_set(d, "period.end", doc_str("2027-09-30"));
    expect_ok(&cur, d, "end extended (one year from the start)");
    d = doc_cur();
    doc_set(d, "period.end", doc_str("2027-10-01"));
    expect_err(&cur, d, "period.end", "period_too_long", "end extended past one year");

    /* extending: a period that ended yesterday may go on, not one that ended before */
    struct decision ended;
    load(&ended, ended_json, date_from_ymd(2026, 10, 1));
    d = cJSON_Parse(ended_json);
    doc_set(d, "period.end", doc_str("2026-12-31"));
    expect_ok(&ended, d, "decision that ended yesterday extended");
    d = cJSON_Parse(ended_json);
    doc_set(d, "period.end", doc_str("2026-11-21"));
    expect_err(&ended, d, "period.end", "retroactive_change",
               "decision that ended yesterday shortened further");
    d = cJSON_Parse(ended_json);
    expect_ok(&ended, d, "decision that ended yesterday, unchanged");
    struct decision ended2;
    const char *e2 = "{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
                     "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2026-11-21\"}}";
    load(&ended2, e2, date_from_ymd(2026, 10, 1));
    d = cJSON_Parse(e2);
    doc_set(d, "period.end", doc_str("2026-12-31"));
    expect_err(&ended2, d, "period.end", "retroactive_change",
               "decision that ended the day before yesterday extended");
    d = cJSON_Parse(e2);
    doc_set(d, "period.end", doc_str("2026-11-22"));
    expect_err(&ended2, d, "period.end", "retroactive_change",
               "ended the day before yesterday, extended by one day");
    d = cJSON_Parse(e2);
    expect_ok(&ended2, d, "ended the day before yesterday, unchanged");
}

static void test_cover_periods(void)
{
    /* cover start in the past */
    cJSON *d = doc_cur();
    doc_set(d, "covers.0.period.start", doc_str("2026-10-02"));
    expect_err(&cur, d, "covers[0].period.start", "retroactive_change",
               "past cover start moved later");
    /* cover start in the future */
    d = doc_cur();
    doc_set(d, "covers.1.period.start", doc_str("2026-11-23"));
    expect_ok(&cur, d, "future cover start moved to today");
    d = doc_cur();
    doc_set(d, "covers.1.period.start", doc_str("2026-11-22"));
    expect_err(&cur, d, "covers[1].period.start", "retroactive_change",
               "future cover start moved to yesterday");
    /* cover end shortened */
    d = doc_cur();
    doc_set(d, "covers.0.period.end", doc_str("2026-11-23"));
    expect_ok(&cur, d, "cover end shortened to today");
    d = doc_cur();
    doc_set(d, "covers.0.period.end", doc_str("2026-11-22"));
    expect_err(&cur, d, "covers[0].period.end", "retroactive_change",
               "cover end shortened to yesterday");
    ok(!has_err("period.end", "retroactive_change"), "  (the decision's end is not blamed)");
    /* cover end extended */
    d = doc_cur();
    doc_set(d, "covers.2.period.end", doc_str("2027-01-31"));
    expect_ok(&cur, d, "cover that ended yesterday extended");
    ok(out.covers[2].period.end == date_from_ymd(2027, 1, 31), "  new end kept");
    d = doc_cur();
    doc_set(d, "covers.3.period.end", doc_str("2027-01-31"));
    expect_err(&cur, d, "covers[3].period.end", "retroactive_change",
               "cover that ended the day before yesterday extended");
    d = doc_cur();
    doc_set(d, "covers.3.period.end", doc_str("2026-11-20"));
    expect_err(&cur, d, "covers[3].period.end", "retroactive_change",
               "cover that ended the day before yesterday shortened");
    /* covers matched by care type, not by position */
    d = doc_cur();
    cJSON *arr = doc_at(d, "covers");
    cJSON *first = cJSON_DetachItemFromArray(arr, 0);
    cJSON_AddItemToArray(arr, first);
    expect_ok(&cur, d, "covers in another order");
}

/* a medical_transport cover starting on start */
static cJSON *added_cover(const char *start)
{
    cJSON *c = cJSON_Parse(
        "{\"care_type\":\"medical_transport\",\"period\":{\"start\":\"\",\"end\":\"2027-01-31\"},"
        "\"ocmw_pays\":{\"insurance_part\":\"full\",\"patient_share\":\"full\",\"supplements\":"
        "\"none\"}}");
    doc_set(c, "period.start", doc_str(start));
    return c;
}

static void test_covers_added_removed(void)
{
    cJSON *d = doc_cur();
    cJSON_AddItemToArray(doc_at(d, "covers"), added_cover("2026-11-23"));
    expect_ok(&cur, d, "cover added starting today");
    is_int(out.n_covers, 5, "  five covers");
    d = doc_cur();
    cJSON_AddItemToArray(doc_at(d, "covers"), added_cover("2026-11-22"));
    expect_err(&cur, d, "covers[4].period.start", "retroactive_change",
               "cover added starting yesterday");
    d = doc_cur();
    cJSON_InsertItemInArray(doc_at(d, "covers"), 0, added_cover("2026-11-22"));
    expect_err(&cur, d, "covers[0].period.start", "retroactive_change",
               "cover added first, starting yesterday (path follows the new document)");

    d = doc_cur();
    doc_del(d, "covers.0");
    expect_ok(&cur, d, "an active cover removed");
    is_int(out.n_covers, 3, "  three covers");
    ok(decision_cover(&out, CT_GENERAL_PRACTICE) == NULL, "  general practice gone");
    d = doc_cur();
    doc_del(d, "covers.1");
    expect_ok(&cur, d, "a future cover removed");
    d = doc_cur();
    doc_del(d, "covers.3");
    doc_del(d, "covers.2");
    expect_ok(&cur, d, "ended covers removed");

    /* removed then re-added: a new cover, so it starts today at the earliest */
    struct decision v2;
    d = doc_cur();
    doc_del(d, "covers.0");
    char *t = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    enum parse_result r = decision_parse_update(t, strlen(t), today, &cur, &v2, &errs);
    free(t);
    is_int(r, PARSE_OK, "version without general practice");
    expect_err(&v2, doc_cur(), "covers[0].period.start", "retroactive_change",
               "general practice re-added with its old (past) start");
    d = doc_cur();
    doc_set(d, "covers.0.period.start", doc_str("2026-11-23"));
    expect_ok(&v2, d, "general practice re-added from today");
}

static void test_amounts(void)
{
    cJSON *d = doc_cur();
    doc_set(d, "covers.0.patient_share_cap_cents", doc_raw("9000"));
    expect_ok(&cur, d, "patient share cap changed");
    is_int(out.covers[0].patient_share_cap_cents, 9000, "  new cap");
    d = doc_cur();
    doc_set(d, "covers.0.ocmw_pays.insurance_part", doc_str("full"));
    doc_set(d, "covers.0.ocmw_pays.patient_share", doc_str("full"));
    doc_del(d, "covers.0.patient_share_cap_cents");
    expect_ok(&cur, d, "what the OCMW pays changed");
    is_int(out.covers[0].patient_share, PAYS_FULL, "  patient share full");
    d = doc_cur();
    doc_set(d, "covers.1.prescription_required", cJSON_CreateTrue());
    doc_set(d, "covers.1.convention", cJSON_CreateTrue());
    doc_set(d, "covers.0.designated_providers", doc_raw("[\"10000000000\"]"));
    expect_ok(&cur, d, "conditions and designated providers changed");
    ok(out.covers[1].prescription_required && out.covers[1].convention, "  conditions set");
    is_int(out.covers[0].n_designated, 1, "  one designated provider");
    d = doc_cur();
    doc_set(d, "state_share.other.patient_share_pct", doc_raw("50"));
    doc_set(d, "urgent_attestation_required", cJSON_CreateTrue());
    doc_set(d, "reference", doc_str("2026/9999"));
    doc_set(d, "beneficiary.death_date", doc_str("2026-11-20"));
    expect_ok(&cur, d, "state share, attestation, reference, death date changed");
    is_int(out.state_share[SD_OTHER].patient_share_pct, 50, "  new state share");
}

static void test_old_start(void)
{
    /* recorded 80 days ago with a start that day; today the start is 80 days back */
    pdate then = today - 80;
    char start[PDATE_STRLEN + 1], end[PDATE_STRLEN + 1], moved[PDATE_STRLEN + 1];
    date_format(then, start);
    date_format(then + 200, end);
    date_format(then + 1, moved);
    char json[400];
    snprintf(json, sizeof json,
             "{\"kind\":\"principle\",\"beneficiary\":{\"ssin\":\"85073003328\"},"
             "\"period\":{\"start\":\"%s\",\"end\":\"%s\"}}",
             start, end);
    struct decision old;
    load(&old, json, then);
    ok(old.period.start == then, "fixture: start 80 days back (%s)", start);

    struct decision tmp;
    enum parse_result r = decision_parse_input(json, strlen(json), today, &tmp, &errs);
    if (!ok(r == PARSE_INVALID && has_err("period.start", "start_too_early"),
            "parse_input refuses the 80-days-back start"))
        dump_errs();
    expect_ok(&old, cJSON_Parse(json), "parse_update accepts the same start, unchanged");
    cJSON *d = cJSON_Parse(json);
    doc_set(d, "period.end", doc_str("2027-03-31"));
    expect_ok(&old, d, "  and an extended end with it");
    d = cJSON_Parse(json);
    doc_set(d, "period.start", doc_str(moved));
    /* refused by the field rules already (no longer the kept start), so
     * decision_check_change is not reached */
    expect_err(&old, d, "period.start", "start_too_early", "the old start moved a day later");
    /* decision_parse_input's 60-day bound is still in force for a moved start */
    struct decision fut;
    load(&fut, fut_json, today);
    d = doc_fut();
    doc_set(d, "period.start", doc_str("2026-09-23"));
    doc_set(d, "covers.0.period.start", doc_str("2026-09-23"));
    expect_err(&fut, d, "period.start", "start_too_early", "future start moved 61 days back");
}

/* ---- stops ------------------------------------------------------------------- */

static void stop_ok(const struct decision *base, pdate end, const char *name, struct decision *d)
{
    memcpy(d, base, sizeof *d);
    if (!ok(decision_apply_stop(d, end, today, &errs) && errs.n == 0, "stop accepted: %s", name))
        dump_errs();
}

static void stop_err(const struct decision *base, pdate end, const char *code, const char *name)
{
    struct decision d;
    memcpy(&d, base, sizeof d);
    if (!ok(!decision_apply_stop(&d, end, today, &errs) && has_err("end", code),
            "stop refused %s: %s", code, name))
        dump_errs();
    ok(memcmp(&d, base, sizeof d) == 0, "  decision untouched");
}

static void test_stop(void)
{
    struct decision d;
    stop_ok(&cur, today, "end today", &d);
    is_int(d.status, DS_STOPPED, "  status stopped");
    ok(d.period.end == today, "  decision ends today");
    ok(d.period.start == cur.period.start, "  start kept");
    ok(d.covers[0].period.end == today, "  general practice cut to today");
    ok(d.covers[0].period.start == cur.covers[0].period.start, "  its start kept");
    ok(d.covers[1].period.start == date_from_ymd(2026, 12, 1), "  pharmacy keeps its start");
    ok(d.covers[1].period.end == today, "  pharmacy ends at the stop");
    ok(d.covers[1].period.start > d.covers[1].period.end, "  so it covers no day");
    ok(d.covers[2].period.end == today - 1, "  paramedical (ended yesterday) untouched");
    ok(d.covers[3].period.end == today - 2, "  miscellaneous untouched");
    is_int(d.n_covers, 4, "  four covers still");
    {
        /* the stopped version must survive storage */
        char *a = decision_encode(&d, true);
        struct decision back;
        bool parsed = a && decision_parse_stored(a, strlen(a), &back);
        char *b = parsed ? decision_encode(&back, true) : NULL;
        if (!is_str(b, a, "stopped version: encode, parse_stored, encode"))
            diag("first: %s", a ? a : "(null)");
        free(a);
        free(b);
    }
    stop_err(&cur, today - 1, "retroactive_change", "end yesterday");
    stop_ok(&cur, today + 1, "end tomorrow", &d);
    ok(d.covers[0].period.end == today + 1, "  cover cut to tomorrow");
    stop_ok(&cur, cur.period.end, "end on the current end", &d);
    is_int(d.status, DS_STOPPED, "  stopped");
    ok(d.covers[0].period.end == cur.covers[0].period.end, "  cover end unchanged");
    stop_err(&cur, cur.period.end + 1, "stop_after_end", "a day after the current end");

    struct decision fut;
    load(&fut, fut_json, today);
    stop_err(&fut, fut.period.start - 1, "stop_before_start", "the day before the start");
    stop_ok(&fut, fut.period.start, "on the start day", &d);
    ok(d.period.start == d.period.end, "  a one-day decision");
    ok(d.covers[0].period.end == fut.period.start, "  cover cut to the start day");
    stop_err(&fut, today - 1, "retroactive_change", "yesterday, also before the start");

    struct decision ended;
    load(&ended, ended_json, date_from_ymd(2026, 10, 1));
    stop_err(&ended, today, "stop_after_end", "a decision that ended yesterday, stopped today");
}

static void test_stop_parse(void)
{
    pdate end = 0;
    const char *t = "{\"end\":\"2026-11-23\"}";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_OK, "stop_parse: valid");
    ok(end == today && errs.n == 0, "  end parsed");
    t = " {\"end\" : \"2027-03-31\"}\n";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_OK, "stop_parse: whitespace around");
    t = "{}";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_INVALID, "stop_parse: {}");
    ok(has_err("end", "required"), "  end required");
    t = "{\"end\":null}";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_INVALID, "stop_parse: null end");
    ok(has_err("end", "required") || has_err("end", "wrong_type"), "  null end refused");
    t = "{\"end\":20261123}";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_INVALID, "stop_parse: number");
    ok(has_err("end", "wrong_type"), "  wrong_type");
    t = "{\"end\":\"2026-02-30\"}";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_INVALID, "stop_parse: 30 February");
    ok(has_err("end", "invalid_date"), "  invalid_date");
    t = "{\"end\":\"2026-11-23\",\"reason\":\"x\"}";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_INVALID, "stop_parse: unknown field");
    ok(has_err("reason", "unknown_field"), "  unknown_field at reason");
    t = "{\"end\":\"2026-11-23\",\"end\":\"2026-11-24\"}";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_INVALID, "stop_parse: duplicate key");
    ok(has_code("duplicate_field"), "  duplicate_field");
    t = "{\"end\":\"2026-11-23\"";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_MALFORMED, "stop_parse: truncated");
    t = "[\"2026-11-23\"]";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_MALFORMED, "stop_parse: an array");
    is_int(stop_parse("", 0, &end, &errs), PARSE_MALFORMED, "stop_parse: empty body");
    t = "{\"end\":\"2026-11-23\"}x";
    is_int(stop_parse(t, strlen(t), &end, &errs), PARSE_MALFORMED, "stop_parse: trailing junk");
    const char nul[] = "{\"end\":\"2026-11-23\"}\0";
    is_int(stop_parse(nul, sizeof nul - 1, &end, &errs), PARSE_MALFORMED,
           "stop_parse: trailing NUL byte");
}

static void test_empty_parse(void)
{
    is_int(empty_parse("", 0, &errs), PARSE_OK, "empty_parse: no body");
    is_int(empty_parse(NULL, 0, &errs), PARSE_OK, "empty_parse: NULL, 0");
    is_int(empty_parse("  ", 2, &errs), PARSE_OK, "empty_parse: blanks");
    is_int(empty_parse(" \r\n\t", 4, &errs), PARSE_OK, "empty_parse: CR LF tab");
    is_int(empty_parse("{}", 2, &errs), PARSE_OK, "empty_parse: {}");
    is_int(empty_parse(" { } \n", 6, &errs), PARSE_OK, "empty_parse: { } with blanks");
    is_int(empty_parse("{\"x\":1}", 7, &errs), PARSE_INVALID, "empty_parse: {\"x\":1}");
    ok(has_err("x", "unknown_field"), "  unknown_field at x");
    is_int(empty_parse("[", 1, &errs), PARSE_MALFORMED, "empty_parse: [");
    is_int(empty_parse("[]", 2, &errs), PARSE_MALFORMED, "empty_parse: []");
    is_int(empty_parse("null", 4, &errs), PARSE_MALFORMED, "empty_parse: null");
    is_int(empty_parse("{}{}", 4, &errs), PARSE_MALFORMED, "empty_parse: two objects");
    is_int(empty_parse("\0", 1, &errs), PARSE_MALFORMED, "empty_parse: a NUL byte");
    is_int(empty_parse("  {}", 2, &errs), PARSE_OK, "empty_parse: length respected");
}

static void test_summary(void)
{
    cJSON *o = decision_summary_json(&cur);
    ok(o != NULL, "summary built");
    if (o == NULL)
        return;
    is_int(cJSON_GetArraySize(o), 5, "summary: exactly five members");
    is_str(cJSON_GetStringValue(doc_at(o, "id")), "D2026-00000042", "summary: id");
    is_str(cJSON_GetStringValue(doc_at(o, "ocmw")), "0212345668", "summary: ocmw");
    is_str(cJSON_GetStringValue(doc_at(o, "kind")), "coverage", "summary: kind");
    is_str(cJSON_GetStringValue(doc_at(o, "period.start")), "2026-10-01", "summary: period.start");
    is_str(cJSON_GetStringValue(doc_at(o, "period.end")), "2027-03-31", "summary: period.end");
    is_int(cJSON_GetArraySize(doc_at(o, "period")), 2, "summary: period has start and end only");
    is_str(cJSON_GetStringValue(doc_at(o, "status")), "active", "summary: status");
    ok(doc_at(o, "beneficiary") == NULL && doc_at(o, "covers") == NULL &&
           doc_at(o, "reference") == NULL && doc_at(o, "version") == NULL,
       "summary: nothing else disclosed");
    cJSON_Delete(o);

    struct decision d;
    stop_ok(&cur, today, "for the summary", &d);
    o = decision_summary_json(&d);
    is_str(o ? cJSON_GetStringValue(doc_at(o, "status")) : NULL, "stopped", "summary: stopped");
    is_str(o ? cJSON_GetStringValue(doc_at(o, "period.end")) : NULL, "2026-11-23",
           "summary: end after the stop");
    cJSON_Delete(o);
    struct decision p;
    load(&p, ended_json, date_from_ymd(2026, 10, 1));
    p.status = DS_SUSPENDED;
    o = decision_summary_json(&p);
    is_str(o ? cJSON_GetStringValue(doc_at(o, "kind")) : NULL, "principle", "summary: principle");
    is_str(o ? cJSON_GetStringValue(doc_at(o, "status")) : NULL, "suspended", "summary: suspended");
    cJSON_Delete(o);
}

int main(void)
{
    today = date_from_ymd(2026, 11, 23);
    load(&cur, cur_json, date_from_ymd(2026, 10, 1));
    ok(cur.n_covers == 4 && cur.period.start == date_from_ymd(2026, 10, 1),
       "fixture: current version parsed");
    test_unchanged();
    test_immutable();
    test_decision_start();
    test_decision_end();
    test_cover_periods();
    test_covers_added_removed();
    test_amounts();
    test_old_start();
    test_stop();
    test_stop_parse();
    test_empty_parse();
    test_summary();
    return done_testing();
}
