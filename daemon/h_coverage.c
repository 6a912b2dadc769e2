/*
 * h_coverage: POST /v1/coverage (provider).
 *
 * 1. parse the question (a bad SSIN is an answer, not an error);
 * 2. fetch every decision of the person as it stood for the service date
 *    (the last version recorded on or before it: no change is retroactive);
 * 3. decide (proto/coverage.c, pure);
 * 4. record the answer as an agreement, numbered by the database, and send
 *    exactly the text that was recorded. Nothing is sent before the
 *    agreement is committed.
 */
#include "h_coverage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../proto/coverage.h"
#include "h_decision.h"
#include "log.h"
#include "pg.h"
#include "queries.h"
#include "router.h"
#include "server.h"

struct coverage_job {
    struct request *r;
    struct coverage_question q;
    struct decision *decisions;
    size_t n;
};

static void job_free(struct coverage_job *job)
{
    free(job->decisions);
    free(job);
}

static void agreement_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct coverage_job *job = arg;
    struct request *r = job->r;
    if (o != PG_OK || PQntuples(res) != 1) {
        request_db_error(r, o == PG_OK ? PG_ERROR : o, res);
        job_free(job);
        return;
    }
    request_json(r, 200, strdup(PQgetvalue(res, 0, 0)));
    job_free(job);
}

static char *question_json(const struct coverage_question *q)
{
    char date[PDATE_STRLEN + 1];
    date_format(q->service_date, date);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "ssin", q->ssin);
    cJSON_AddStringToObject(o, "service_date", date);
    cJSON_AddStringToObject(o, "care_type", care_type_name(q->care_type));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static void answer(struct coverage_job *job)
{
    struct request *r = job->r;
    const struct principal *p = request_principal(r);
    struct coverage_result res;
    coverage_evaluate(&job->q, job->decisions, job->n, p->org, request_today(r), &res);
    char *text = coverage_encode_answer(&res, request_lang(r));
    char *qjson = question_json(&job->q);
    if (!text || !qjson) {
        free(text);
        free(qjson);
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        job_free(job);
        return;
    }
    char pid[24], date[PDATE_STRLEN + 1], version[16];
    snprintf(pid, sizeof pid, "%lld", (long long)p->id);
    date_format(job->q.service_date, date);
    const char *decision_id = NULL, *decision_version = NULL;
    if (res.decision) {
        decision_id = res.decision->id;
        snprintf(version, sizeof version, "%d", res.decision->version);
        decision_version = version;
    }
    const char *params[] = {pid,
                            p->org,
                            job->q.ssin,
                            date,
                            care_type_name(job->q.care_type),
                            res.reason == RF_NONE ? "true" : "false",
                            res.reason == RF_NONE ? NULL : refusal_code(res.reason),
                            decision_id,
                            decision_version,
                            qjson,
                            text};
    pg_submit(request_worker(r)->pool, &Q_AGREEMENT_INSERT, params, agreement_cb, job);
    free(text);
    free(qjson);
}

static void decisions_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct coverage_job *job = arg;
    struct request *r = job->r;
    if (o != PG_OK) {
        request_db_error(r, o, res);
        job_free(job);
        return;
    }
    int n = PQntuples(res);
    if (n > 0) {
        job->decisions = calloc((size_t)n, sizeof *job->decisions);
        if (!job->decisions) {
            request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
            job_free(job);
            return;
        }
    }
    for (int i = 0; i < n; i++) {
        if (!h_decision_from_row(res, i, &job->decisions[i])) {
            log_ctx(LOG_ERROR, request_log_prefix(r), "stored decision %s does not parse",
                    PQgetvalue(res, i, 0));
            request_problem(r, PROBLEM_INTERNAL_ERROR, "stored decision unreadable", NULL, NULL);
            job_free(job);
            return;
        }
    }
    job->n = (size_t)n;
    answer(job);
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
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body is not a JSON object", NULL, NULL);
        job_free(job);
        return;
    case PARSE_INVALID:
        request_problem(r, PROBLEM_VALIDATION_FAILED, "the question is incomplete or wrong", &errs,
                        NULL);
        job_free(job);
        return;
    case PARSE_OK:
        break;
    }
    if (!job->q.ssin_valid) {
        /* recorded as asked, but only digits: a stray byte (or half of a
         * multi-byte character cut at 11 bytes) never reaches the database */
        for (char *p = job->q.ssin; *p; p++)
            if (*p < '0' || *p > '9')
                *p = '?';
    }
    /* reasons that need no decision are answered without reading any */
    struct coverage_result pre;
    coverage_evaluate(&job->q, NULL, 0, request_principal(r)->org, request_today(r), &pre);
    if (pre.reason == RF_INVALID_SSIN || pre.reason == RF_SERVICE_DATE_IN_FUTURE ||
        pre.reason == RF_SERVICE_DATE_TOO_OLD) {
        answer(job);
        return;
    }
    char date[PDATE_STRLEN + 1];
    date_format(job->q.service_date, date);
    const char *params[] = {job->q.ssin, date, request_worker(r)->cfg->timezone};
    pg_submit(request_worker(r)->pool, &Q_COVERAGE_DECISIONS, params, decisions_cb, job);
}
