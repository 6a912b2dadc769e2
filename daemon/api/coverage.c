/*
 * h_coverage: POST /v1/coverage and POST /v1/coverage/batch (provider).
 *
 * One question is one job:
 *   1. parse (a bad SSIN is an answer, not an error);
 *   2. look up, in one round trip, the person's decisions as they stood for
 *      the service date, the tariffs of the asked codes, and what the
 *      month's patient-share cap already granted (Q_COVERAGE_LOOKUP);
 *   3. decide and split (proto/, pure);
 *   4. record the answer as an agreement before it leaves: an answer that
 *      grants part of a monthly cap is recorded only if that still fits under
 *      the cap with the month's usage as it is at that moment (checked under
 *      the row's lock; computed again from 2. when it no longer fits), every
 *      other answer through the worker's group commit.
 * A batch runs its questions as jobs, a window of them at a time, and
 * answers them in order; a question that cannot be answered gets an error
 * in its slot, the others keep their agreements.
 */
#include "api/coverage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "proto/coverage.h"
#include "proto/jsonx.h"
#include "db/agreements.h"
#include "api/decisions.h"
#include "base/log.h"
#include "db/db.h"
#include "db/pg.h"
#include "db/pgarray.h"
#include "db/queries.h"
#include "http/router.h"
#include "net/server.h"

#define BATCH_MAX    1000
#define BATCH_WINDOW 32 /* questions of one batch in flight at once */
#define CAP_RETRIES  50

static const char TARIFF_HEADER[] = "code,start,end,fee_cents,patient_share_cents,care_types\n";

struct batch;

struct coverage_job {
    struct request *r;
    struct batch *batch; /* NULL for a single question */
    int index;
    int attempts;
    struct coverage_question q;
    struct decision *decisions;
    size_t n;
    struct tariff_set tariffs;
    int64_t used;
    char known_at[40]; /* when the lookup read the data */
};

struct batch {
    struct request *r;
    cJSON *root; /* the parsed body; questions are parsed one by one */
    const cJSON *next_q;
    int n, started, running, done;
    bool pumping; /* batch_pump is on the stack: a question that ends at once
                   * (out of memory) must not start others or answer */
    char **slots; /* per question: the answer or {"error":...} */
};

static void batch_slot_done(struct batch *b, int index, char *text);

static void job_free(struct coverage_job *job)
{
    free(job->decisions);
    tariff_set_free(&job->tariffs);
    free(job);
}

/* The job ends with an answer text (taken over) or a problem. */
static void job_finish(struct coverage_job *job, char *text, enum problem p, const char *detail)
{
    struct request *r = job->r;
    struct batch *b = job->batch;
    int index = job->index;
    job_free(job);
    if (!b) {
        if (text)
            request_json(r, 200, text);
        else
            request_problem(r, p, detail, NULL, NULL);
        return;
    }
    if (!text) {
        char *doc = problem_encode(p, detail, NULL, NULL);
        size_t n = doc ? strlen(doc) + 12 : 0;
        text = doc ? malloc(n) : NULL;
        if (text)
            snprintf(text, n, "{\"error\":%s}", doc);
        free(doc);
    }
    batch_slot_done(b, index, text);
}

static void job_db_error(struct coverage_job *job, enum pg_outcome o, const PGresult *res)
{
    if (!job->batch) {
        struct request *r = job->r;
        job_free(job);
        request_db_error(r, o, res);
        return;
    }
    const char *state = pg_sqlstate(res);
    bool unavailable = o != PG_ERROR || strcmp(state, "57014") == 0 || strncmp(state, "08", 2) == 0;
    if (!unavailable)
        log_ctx(LOG_ERROR, request_log_prefix(job->r), "database error %s", state);
    job_finish(job, NULL, unavailable ? PROBLEM_DATABASE_UNAVAILABLE : PROBLEM_INTERNAL_ERROR,
               o == PG_LOST  ? "the database connection was lost while recording: this answer "
                               "may have been recorded (an auditor can find it); asking again "
                               "gives a new agreement"
               : unavailable ? "the database is unavailable; ask this question again"
                             : NULL);
}

static char *question_json(const struct coverage_question *q)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    bool ok = jx_add_str(o, "ssin", q->ssin) && jx_add_date(o, "service_date", q->service_date) &&
              jx_add_str(o, "care_type", care_type_name(q->care_type));
    if (ok && q->n_items > 0) {
        cJSON *items = cJSON_AddArrayToObject(o, "items");
        ok = items != NULL;
        for (int i = 0; ok && i < q->n_items; i++) {
            const struct coverage_item *it = &q->items[i];
            cJSON *e = cJSON_CreateObject();
            ok =
                e && cJSON_AddItemToArray(items, e) && jx_add_str(e, "code", it->code) &&
                jx_add_int(e, "quantity", it->quantity) &&
                jx_add_int(e, "supplements_cents", it->supplements_cents) &&
                (!it->has_supplement_type || jx_add_str(e, "supplement_type", it->supplement_type));
        }
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return jx_print_free(o);
}

static void fill_rec(struct coverage_job *job, const struct coverage_result *res,
                     struct agreement_rec *rec)
{
    const struct principal *p = request_principal(job->r);
    memset(rec, 0, sizeof *rec);
    rec->provider_id = p->id;
    snprintf(rec->provider_org, sizeof rec->provider_org, "%s", p->org);
    memcpy(rec->ssin, job->q.ssin, sizeof rec->ssin);
    rec->service_date = job->q.service_date;
    rec->care_type = job->q.care_type;
    snprintf(rec->known_at, sizeof rec->known_at, "%s", job->known_at);
    rec->covered = res->reason == RF_NONE;
    rec->reason = res->reason == RF_NONE ? NULL : refusal_code(res->reason);
    if (res->decision) {
        snprintf(rec->decision_id, sizeof rec->decision_id, "%s", res->decision->id);
        rec->decision_version = res->decision->version;
    }
}

static void recorded_cb(void *arg, enum pg_outcome o, const char *answer, const PGresult *res)
{
    struct coverage_job *job = arg;
    if (o != PG_OK) {
        job_db_error(job, o, res);
        return;
    }
    char *text = strdup(answer);
    job_finish(job, text, PROBLEM_INTERNAL_ERROR, "out of memory");
}

static void lookup(struct coverage_job *job);

static void cap_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct coverage_job *job = arg;
    if (o != PG_OK) {
        job_db_error(job, o, res);
        return;
    }
    if (PQntuples(res) == 1) {
        job_finish(job, strdup(PQgetvalue(res, 0, 0)), PROBLEM_INTERNAL_ERROR, "out of memory");
        return;
    }
    /* another answer took from this month's cap since we looked: again */
    if (++job->attempts >= CAP_RETRIES) {
        job_finish(job, NULL, PROBLEM_DATABASE_UNAVAILABLE,
                   "too many simultaneous questions for this person; ask again");
        return;
    }
    free(job->decisions);
    job->decisions = NULL;
    tariff_set_free(&job->tariffs);
    lookup(job);
}

/* Decide, split, encode, record. */
static void answer(struct coverage_job *job)
{
    struct request *r = job->r;
    struct coverage_result *res = calloc(1, sizeof *res);
    if (!res) {
        job_finish(job, NULL, PROBLEM_INTERNAL_ERROR, "out of memory");
        return;
    }
    coverage_evaluate(&job->q, job->decisions, job->n, request_principal(r)->org, request_today(r),
                      res);
    coverage_split(&job->q, job->tariffs.lines, job->tariffs.n, job->used, res);
    char *text = coverage_encode_answer(&job->q, res, request_lang(r));
    char *qjson = question_json(&job->q);
    if (!text || !qjson) {
        free(text);
        free(qjson);
        free(res);
        job_finish(job, NULL, PROBLEM_INTERNAL_ERROR, "out of memory");
        return;
    }
    struct agreement_rec rec;
    fill_rec(job, res, &rec);
    rec.question = qjson;
    rec.answer = text;
    int64_t granted = res->reason == RF_NONE ? res->totals.ocmw_patient_share_cents : 0;
    int64_t cap_cents = granted > 0 && res->cover ? res->cover->patient_share_cap_cents : 0;
    free(res);
    if (granted <= 0) {
        agreements_record(db_agreement_queue(request_db(r)), &rec, recorded_cb, job);
        return;
    }
    char pid[24], date[PDATE_STRLEN + 1], ver[16], cap[24], limit[24];
    snprintf(pid, sizeof pid, "%lld", (long long)rec.provider_id);
    date_format(rec.service_date, date);
    snprintf(ver, sizeof ver, "%d", rec.decision_version);
    snprintf(cap, sizeof cap, "%lld", (long long)granted);
    snprintf(limit, sizeof limit, "%lld", (long long)cap_cents);
    const char *params[] = {pid,
                            rec.provider_org,
                            rec.ssin,
                            date,
                            care_type_name(rec.care_type),
                            "t",
                            NULL,
                            rec.decision_id,
                            ver,
                            rec.question,
                            rec.answer,
                            cap,
                            limit,
                            rec.known_at};
    pg_submit(db_pool(request_db(r)), &Q_AGREEMENT_INSERT_CAP, params, cap_cb, job);
    free(rec.question);
    free(rec.answer);
}

static bool load_tariffs(struct coverage_job *job, const char *csv)
{
    size_t hl = sizeof TARIFF_HEADER - 1, cl = strlen(csv);
    char *buf = malloc(hl + cl + 1);
    if (!buf)
        return false;
    memcpy(buf, TARIFF_HEADER, hl);
    memcpy(buf + hl, csv, cl + 1);
    struct verrs errs;
    bool ok = tariff_parse(buf, hl + cl, true, &job->tariffs, &errs) == PARSE_OK;
    free(buf);
    return ok;
}

bool h_coverage_rows(struct request *r, const PGresult *res, int death_col, int stop_col,
                     struct decision **out, size_t *n_out)
{
    int rows = PQntuples(res);
    int n = rows > 0 && !PQgetisnull(res, 0, 0) ? rows : 0;
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return true;
    struct decision *ds = calloc((size_t)n, sizeof *ds);
    if (!ds)
        return false;
    for (int i = 0; i < n; i++) {
        struct decision *d = &ds[i];
        if (!h_decision_from_row(res, i, d)) {
            log_ctx(LOG_ERROR, request_log_prefix(r), "stored decision %s does not parse",
                    PQgetvalue(res, i, 0));
            free(ds);
            return false;
        }
        /* a death is a fact, not a change: the latest knowledge applies to
         * every service date */
        d->has_death_date = !PQgetisnull(res, i, death_col) &&
                            date_parse(PQgetvalue(res, i, death_col),
                                       (size_t)PQgetlength(res, i, death_col), &d->death_date);
        /* stopped while suspended: still no guarantee until the end */
        if (d->status == DS_STOPPED && !PQgetisnull(res, i, stop_col) &&
            strcmp(PQgetvalue(res, i, stop_col), "suspended") == 0)
            d->status = DS_SUSPENDED;
    }
    *out = ds;
    *n_out = (size_t)n;
    return true;
}

static void lookup_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct coverage_job *job = arg;
    if (o != PG_OK) {
        job_db_error(job, o, res);
        return;
    }
    int rows = PQntuples(res);
    if (!h_coverage_rows(job->r, res, 6, 9, &job->decisions, &job->n)) {
        job_finish(job, NULL, PROBLEM_INTERNAL_ERROR, "stored decision unreadable");
        return;
    }
    if (rows > 0 && !PQgetisnull(res, 0, 7) && !load_tariffs(job, PQgetvalue(res, 0, 7))) {
        log_ctx(LOG_ERROR, request_log_prefix(job->r), "stored tariffs do not parse");
        job_finish(job, NULL, PROBLEM_INTERNAL_ERROR, "stored tariffs unreadable");
        return;
    }
    job->used = rows > 0 ? strtoll(PQgetvalue(res, 0, 8), NULL, 10) : 0;
    if (rows > 0)
        snprintf(job->known_at, sizeof job->known_at, "%s", PQgetvalue(res, 0, 10));
    answer(job);
}

static void lookup(struct coverage_job *job)
{
    struct request *r = job->r;
    char date[PDATE_STRLEN + 1];
    date_format(job->q.service_date, date);
    struct pgarray codes;
    pgarray_init(&codes);
    for (int i = 0; i < job->q.n_items; i++)
        pgarray_add(&codes, job->q.items[i].code);
    const char *codes_lit = pgarray_finish(&codes);
    if (!codes_lit) {
        pgarray_free(&codes);
        job_finish(job, NULL, PROBLEM_INTERNAL_ERROR, "out of memory");
        return;
    }
    const char *params[] = {job->q.ssin, date, request_config(r)->timezone,
                            care_type_name(job->q.care_type), codes_lit};
    pg_submit(db_pool(request_db(r)), &Q_COVERAGE_LOOKUP, params, lookup_cb, job);
    pgarray_free(&codes);
}

/* A parsed question: answer it. */
static void job_start(struct coverage_job *job)
{
    if (!job->q.ssin_valid) {
        /* recorded as asked, but only digits: a stray byte (or half of a
         * multi-byte character cut at 11 bytes) never reaches the database */
        for (char *p = job->q.ssin; *p; p++)
            if (*p < '0' || *p > '9')
                *p = '?';
    }
    /* reasons that need no decision are answered without reading any */
    struct coverage_result pre;
    coverage_evaluate(&job->q, NULL, 0, request_principal(job->r)->org, request_today(job->r),
                      &pre);
    if (pre.reason == RF_INVALID_SSIN || pre.reason == RF_SERVICE_DATE_IN_FUTURE ||
        pre.reason == RF_SERVICE_DATE_TOO_OLD) {
        answer(job);
        return;
    }
    lookup(job);
}

void h_coverage(struct request *r)
{
    struct coverage_job *job = calloc(1, sizeof *job);
    if (!job) {
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        return;
    }
    job->r = r;
    struct verrs errs;
    verrs_init(&errs);
    size_t len;
    const char *body = request_body(r, &len);
    switch (coverage_parse_question(body, len, &job->q, &errs)) {
    case PARSE_MALFORMED:
        job_free(job);
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body is not a JSON object", NULL, NULL);
        return;
    case PARSE_INVALID:
        job_free(job);
        request_problem(r, PROBLEM_VALIDATION_FAILED, "the question is incomplete or wrong", &errs,
                        NULL);
        return;
    case PARSE_OK:
        break;
    }
    job_start(job);
}

/* ---- batch ------------------------------------------------------------------- */

static void batch_free(struct batch *b)
{
    for (int i = 0; i < b->n; i++)
        free(b->slots[i]);
    free(b->slots);
    cJSON_Delete(b->root);
    free(b);
}

static void batch_respond(struct batch *b)
{
    struct request *r = b->r;
    size_t total = 16;
    for (int i = 0; i < b->n; i++)
        total += (b->slots[i] ? strlen(b->slots[i]) : 4) + 1;
    char *out = malloc(total);
    if (!out) {
        batch_free(b);
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        return;
    }
    size_t o = 0;
    o += (size_t)snprintf(out, total, "{\"answers\":[");
    for (int i = 0; i < b->n; i++) {
        const char *s = b->slots[i] ? b->slots[i] : "null";
        size_t l = strlen(s);
        if (i)
            out[o++] = ',';
        memcpy(out + o, s, l);
        o += l;
    }
    memcpy(out + o, "]}", 3);
    batch_free(b);
    request_json(r, 200, out);
}

/* Start questions until the window is full or none is left. */
static void batch_pump(struct batch *b)
{
    if (b->pumping)
        return;
    b->pumping = true;
    while (b->running < BATCH_WINDOW && b->started < b->n) {
        int index = b->started++;
        const cJSON *qj = b->next_q;
        b->next_q = qj->next;
        char *text = cJSON_PrintUnformatted(qj);
        struct coverage_job *job = text ? calloc(1, sizeof *job) : NULL;
        if (!job) {
            free(text);
            b->slots[index] = strdup("{\"error\":{\"code\":\"internal_error\",\"status\":500}}");
            b->done++;
            continue;
        }
        job->r = b->r;
        job->batch = b;
        job->index = index;
        struct verrs errs;
        verrs_init(&errs);
        enum parse_result pr = coverage_parse_question(text, strlen(text), &job->q, &errs);
        free(text);
        if (pr != PARSE_OK) {
            char *doc = problem_encode(pr == PARSE_MALFORMED ? PROBLEM_MALFORMED_JSON
                                                             : PROBLEM_VALIDATION_FAILED,
                                       "this question is incomplete or wrong", &errs, NULL);
            size_t n = doc ? strlen(doc) + 12 : 0;
            char *slot = doc ? malloc(n) : NULL;
            if (slot)
                snprintf(slot, n, "{\"error\":%s}", doc);
            free(doc);
            b->slots[index] = slot;
            b->done++;
            job_free(job);
            continue;
        }
        b->running++;
        job_start(job);
    }
    b->pumping = false;
    if (b->done == b->n)
        batch_respond(b);
}

static void batch_slot_done(struct batch *b, int index, char *text)
{
    b->slots[index] = text;
    b->running--;
    b->done++;
    batch_pump(b);
}

void h_coverage_batch(struct request *r)
{
    size_t len;
    const char *body = request_body(r, &len);
    cJSON *root = jx_parse(body, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body is not a JSON object", NULL, NULL);
        return;
    }
    struct verrs errs;
    verrs_init(&errs);
    struct jx_field f[] = {{"questions", NULL}};
    jx_walk(root, "", f, 1, NULL, &errs);
    int n = 0;
    if (jx_get_array(f[0].item, "questions", true, &errs) == JX_OK) {
        n = cJSON_GetArraySize(f[0].item);
        if (n < 1 || n > BATCH_MAX)
            verrs_add(&errs, "questions", n < 1 ? "too_few" : "too_many",
                      "must hold 1 to %d questions", BATCH_MAX);
    }
    if (errs.n) {
        cJSON_Delete(root);
        request_problem(r, PROBLEM_VALIDATION_FAILED, "the batch is not a list of questions", &errs,
                        NULL);
        return;
    }
    struct batch *b = calloc(1, sizeof *b);
    char **slots = calloc((size_t)n, sizeof *slots);
    if (!b || !slots) {
        free(b);
        free(slots);
        cJSON_Delete(root);
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        return;
    }
    b->r = r;
    b->root = root;
    b->n = n;
    b->slots = slots;
    b->next_q = f[0].item->child;
    batch_pump(b);
}
