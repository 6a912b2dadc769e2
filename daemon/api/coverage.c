/*
 * h_coverage: POST /v1/coverage and POST /v1/coverage/batch (provider).
 *
 * One question is one job:
 *   1. parse (a bad SSIN is an answer, not an error);
 *   2. look up, in one round trip, the person's decisions as they stood for
 *      the service date, the tariffs of the asked codes, and what the
 *      month's patient-share cap already granted (db_coverage_lookup);
 *   3. decide and split (proto/, pure);
 *   4. record the answer as an agreement before it leaves, through the
 *      worker's group commit: an answer under a monthly patient-share cap is
 *      recorded only if the month's usage is still the one it states and
 *      what it grants still fits (checked under the person's lock; stated
 *      again with the usage as it is then for a later flush, or computed
 *      again from 2. when it no longer fits).
 * A batch runs its questions as jobs, a window of them at a time, and
 * answers them in order; a question that cannot be answered gets an error
 * in its slot (the problem a single question would get), the others keep
 * their agreements.
 */
#include "api/coverage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "proto/coverage.h"
#include "proto/coverage_batch.h"
#include "proto/jsonx.h"
#include "api/common.h"
#include "base/log.h"
#include "base/mem.h"
#include "db/agreements.h"

#define BATCH_WINDOW 32 /* questions of one batch in flight at once */
#define CAP_RETRIES  50

struct batch;

struct coverage_job {
    struct request *r;
    struct batch *batch; /* NULL for a single question */
    int index;
    int attempts;
    struct coverage_question q;
    struct coverage_facts facts; /* what the lookup read */
    coverage_done_fn done;       /* another front end's question (FHIR): its own answer */
    void *done_arg;
};

struct batch {
    struct request *r;
    struct coverage_batch *questions; /* the envelope; each question is parsed when it starts */
    int n, started, running, done;
    bool pumping; /* batch_pump is on the stack: a question that ends at once
                   * must not start others or answer */
    char **slots; /* per question: the answer or {"error":...} */
};

static void batch_slot_done(struct batch *b, int index, char *text);

static void job_free(struct coverage_job *job)
{
    coverage_facts_free(&job->facts);
    free(job);
}

/* The job ends with an answer text (taken over) or a problem. */
static void job_finish(struct coverage_job *job, char *text, enum problem p, const char *detail)
{
    struct request *r = job->r;
    struct batch *b = job->batch;
    int index = job->index;
    coverage_done_fn done = job->done;
    void *done_arg = job->done_arg;
    job_free(job);
    if (done) {
        done(r, text, p, detail, done_arg);
        return;
    }
    if (!b) {
        if (text)
            request_json(r, 200, text);
        else
            request_problem(r, p, detail, NULL, NULL);
        return;
    }
    batch_slot_done(b, index, text ? text : api_error_slot(p, detail, NULL, request_lang(b->r)));
}

/* A database step failed: the problem a single question gets, in the
 * question's answer or in its slot of a batch (api/common.c decides which
 * failures are passing). */
static void job_db_error(struct coverage_job *job, enum pg_outcome o)
{
    const char *detail;
    enum problem p = api_db_problem(job->r, o, &detail);
    /* an agreement has no Idempotency-Key: the generic "retry with the same
     * key" does not apply */
    if (o == PG_LOST)
        detail = "the database connection was lost while recording: this answer may have been "
                 "recorded (an auditor can find it); asking again gives a new agreement";
    else if (o == PG_WR_TIMEOUT)
        detail = "the database did not answer in time while recording: the outcome is unknown "
                 "(this answer may have been recorded, an auditor can find it); asking again "
                 "gives a new agreement";
    job_finish(job, NULL, p, detail);
}

static char *question_json(const struct coverage_question *q)
{
    cJSON *o = cJSON_CreateObject();
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
    snprintf(rec->known_at, sizeof rec->known_at, "%s", job->facts.known_at);
    rec->covered = res->reason == RF_NONE;
    rec->reason = res->reason == RF_NONE ? NULL : refusal_code(res->reason);
    if (res->decision) {
        snprintf(rec->decision_id, sizeof rec->decision_id, "%s", res->decision->id);
        rec->decision_version = res->decision->version;
    }
}

static void recorded_cb(void *arg, enum pg_outcome o, const char *answer)
{
    struct coverage_job *job = arg;
    if (o != PG_OK) {
        job_db_error(job, o);
        return;
    }
    job_finish(job, xstrdup(answer), PROBLEM_INTERNAL_ERROR, NULL);
}

static void lookup(struct coverage_job *job);

static void capped_cb(void *arg, enum pg_outcome o, const char *answer)
{
    struct coverage_job *job = arg;
    if (o != PG_OK) {
        job_db_error(job, o);
        return;
    }
    if (answer) {
        job_finish(job, xstrdup(answer), PROBLEM_INTERNAL_ERROR, NULL);
        return;
    }
    /* another answer took from this month's cap since we looked: again */
    if (++job->attempts >= CAP_RETRIES) {
        job_finish(job, NULL, PROBLEM_DATABASE_UNAVAILABLE,
                   "too many simultaneous questions for this person; ask again");
        return;
    }
    lookup(job);
}

/* Decide, split, encode, record. */
static void answer(struct coverage_job *job)
{
    struct request *r = job->r;
    const struct coverage_facts *f = &job->facts;
    struct coverage_result *res = xcalloc(1, sizeof *res);
    const struct principal *who = request_principal(r);
    coverage_evaluate_kind(&job->q, f->decisions, f->n, who->org, who->kind, request_today(r), res);
    coverage_split(&job->q, f->tariffs.lines, f->tariffs.n, f->used_cents, res);
    char *text = coverage_encode_answer(&job->q, res, request_lang(r));
    char *qjson = question_json(&job->q);
    ASSERT(text && qjson);
    struct agreement_rec rec;
    fill_rec(job, res, &rec);
    rec.question = qjson;
    rec.answer = text;
    /* an answer that states a monthly cap is recorded only while the
     * month's usage is the one it states (db/agreements.c) */
    struct cap_state cap;
    bool capped = coverage_patient_share_cap(res, &cap);
    free(res);
    if (!capped) {
        db_agreement_record(request_db(r), &rec, recorded_cb, job);
        return;
    }
    char cap_text[160];
    coverage_cap_text("patient_share", &cap, cap_text, sizeof cap_text);
    ASSERT(strstr(rec.answer, cap_text) != NULL);
    db_agreement_record_capped(request_db(r), &rec, cap.granted_cents, cap.cap_cents, cap_text,
                               capped_cb, job);
}

static void lookup_cb(void *arg, enum pg_outcome o)
{
    struct coverage_job *job = arg;
    if (o != PG_OK) {
        job_db_error(job, o);
        return;
    }
    answer(job);
}

static void lookup(struct coverage_job *job)
{
    db_coverage_lookup(request_db(job->r), &job->q, &job->facts, lookup_cb, job);
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
    const struct principal *who = request_principal(job->r);
    coverage_evaluate_kind(&job->q, NULL, 0, who->org, who->kind, request_today(job->r), &pre);
    if (pre.reason == RF_INVALID_SSIN || pre.reason == RF_SERVICE_DATE_IN_FUTURE ||
        pre.reason == RF_SERVICE_DATE_TOO_OLD || pre.reason == RF_PROVIDER_KIND_MISMATCH) {
        answer(job);
        return;
    }
    lookup(job);
}

void h_coverage(struct request *r)
{
    struct coverage_job *job = xcalloc(1, sizeof *job);
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

void coverage_ask(struct request *r, const struct coverage_question *q, coverage_done_fn done,
                  void *arg)
{
    struct coverage_job *job = xcalloc(1, sizeof *job);
    job->r = r;
    job->q = *q;
    job->done = done;
    job->done_arg = arg;
    job_start(job);
}

/* ---- batch ------------------------------------------------------------------- */

static void batch_free(struct batch *b)
{
    for (int i = 0; i < b->n; i++)
        free(b->slots[i]);
    free(b->slots);
    coverage_batch_free(b->questions);
    free(b);
}

static void batch_respond(struct batch *b)
{
    struct request *r = b->r;
    size_t total = 16;
    for (int i = 0; i < b->n; i++)
        total += (b->slots[i] ? strlen(b->slots[i]) : 4) + 1;
    char *out = xmalloc(total);
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
        char *text = coverage_batch_question_text(b->questions, index);
        ASSERT(text != NULL); /* the cJSON hooks abort when memory runs out */
        struct coverage_job *job = xcalloc(1, sizeof *job);
        job->r = b->r;
        job->batch = b;
        job->index = index;
        struct verrs errs;
        verrs_init(&errs);
        enum parse_result pr = coverage_parse_question(text, strlen(text), &job->q, &errs);
        free(text);
        if (pr != PARSE_OK) {
            b->slots[index] = coverage_batch_error_slot(pr, &errs, request_lang(job->r));
            ASSERT(b->slots[index] != NULL);
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
    struct verrs errs;
    verrs_init(&errs);
    struct coverage_batch *questions;
    enum coverage_batch_result res = coverage_batch_parse(body, len, &questions, &errs);
    if (res != CB_OK) {
        const char *detail;
        enum problem p = coverage_batch_problem(res, &detail);
        request_problem(r, p, detail, res == CB_INVALID ? &errs : NULL, NULL);
        return;
    }
    struct batch *b = xcalloc(1, sizeof *b);
    b->r = r;
    b->questions = questions;
    b->n = coverage_batch_count(questions);
    b->slots = xcalloc((size_t)b->n, sizeof *b->slots);
    batch_pump(b);
}
