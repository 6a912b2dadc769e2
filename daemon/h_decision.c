/*
 * h_decision: POST /v1/decisions (ocmw) and GET /v1/decisions/{id}
 * (owning ocmw, auditor).
 *
 * The recording OCMW is always the principal's organisation, never taken
 * from the body. A version is stored as the canonical encoding of the
 * validated document, and read back through the same parser, so what is
 * answered is always what the validator accepted.
 */
#include "h_decision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/decision.h"
#include "log.h"
#include "pg.h"
#include "queries.h"
#include "router.h"
#include "server.h"

struct decision_job {
    struct request *r;
    struct decision d;
};

static bool decision_id_ok(const char *id)
{
    if (strlen(id) != 14 || id[0] != 'D' || id[5] != '-')
        return false;
    for (int i = 1; i < 14; i++)
        if (i != 5 && (id[i] < '0' || id[i] > '9'))
            return false;
    return true;
}

static void create_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct decision_job *job = arg;
    struct request *r = job->r;
    if (o != PG_OK || PQntuples(res) != 1) {
        request_db_error(r, o == PG_OK ? PG_ERROR : o, res);
        free(job);
        return;
    }
    struct decision *d = &job->d;
    d->has_meta = true;
    snprintf(d->id, sizeof d->id, "%s", PQgetvalue(res, 0, 0));
    d->version = 1;
    d->status = DS_ACTIVE;
    snprintf(d->ocmw, sizeof d->ocmw, "%s", request_principal(r)->org);
    snprintf(d->recorded_at, sizeof d->recorded_at, "%s", PQgetvalue(res, 0, 1));
    char location[64];
    snprintf(location, sizeof location, "/v1/decisions/%s", d->id);
    request_add_header(r, "Location", location);
    log_ctx(LOG_INFO, request_log_prefix(r), "decision %s recorded", d->id);
    request_json(r, 201, decision_encode(d, true));
    free(job);
}

void h_decision_create(struct request *r)
{
    struct decision_job *job = calloc(1, sizeof *job);
    if (!job) {
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        return;
    }
    job->r = r;
    struct verrs errs;
    verrs_init(&errs);
    size_t len;
    const char *body = request_body(r, &len);
    switch (decision_parse_input(body, len, request_today(r), &job->d, &errs)) {
    case PARSE_MALFORMED:
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body is not a JSON object", NULL, NULL);
        free(job);
        return;
    case PARSE_INVALID:
        request_problem(r, PROBLEM_VALIDATION_FAILED, "the decision breaks one or more rules",
                        &errs, NULL);
        free(job);
        return;
    case PARSE_OK:
        break;
    }
    const struct decision *d = &job->d;
    char *stored = decision_encode(d, false);
    if (!stored) {
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        free(job);
        return;
    }
    char pid[24], start[PDATE_STRLEN + 1], end[PDATE_STRLEN + 1];
    snprintf(pid, sizeof pid, "%lld", (long long)request_principal(r)->id);
    date_format(d->period.start, start);
    date_format(d->period.end, end);
    const char *params[] = {
        request_principal(r)->org, d->ssin, decision_kind_name(d->kind), pid, start, end, stored};
    pg_submit(request_worker(r)->pool, &Q_DECISION_INSERT, params, create_cb, job);
    free(stored);
}

bool h_decision_from_row(const PGresult *res, int row, struct decision *d)
{
    const char *body = PQgetvalue(res, row, 4);
    if (!decision_parse_stored(body, (size_t)PQgetlength(res, row, 4), d))
        return false;
    d->has_meta = true;
    snprintf(d->id, sizeof d->id, "%s", PQgetvalue(res, row, 0));
    d->version = atoi(PQgetvalue(res, row, 1));
    const char *st = PQgetvalue(res, row, 2);
    if (!decision_status_from_name(st, strlen(st), &d->status))
        return false;
    snprintf(d->ocmw, sizeof d->ocmw, "%s", PQgetvalue(res, row, 3));
    snprintf(d->recorded_at, sizeof d->recorded_at, "%s", PQgetvalue(res, row, 5));
    return true;
}

static void get_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct decision_job *job = arg;
    struct request *r = job->r;
    if (o != PG_OK) {
        request_db_error(r, o, res);
        free(job);
        return;
    }
    const struct principal *p = request_principal(r);
    /* another OCMW learns nothing, not even that the decision exists */
    if (PQntuples(res) != 1 ||
        (p->role == ROLE_OCMW && strcmp(PQgetvalue(res, 0, 3), p->org) != 0)) {
        request_problem(r, PROBLEM_NOT_FOUND, "no such decision (or version)", NULL, NULL);
        free(job);
        return;
    }
    if (!h_decision_from_row(res, 0, &job->d)) {
        log_ctx(LOG_ERROR, request_log_prefix(r), "stored decision %s does not parse",
                PQgetvalue(res, 0, 0));
        request_problem(r, PROBLEM_INTERNAL_ERROR, "stored decision unreadable", NULL, NULL);
        free(job);
        return;
    }
    request_json(r, 200, decision_encode(&job->d, true));
    free(job);
}

void h_decision_get(struct request *r)
{
    const char *id = request_param(r, 0);
    if (!id || !decision_id_ok(id)) {
        request_problem(r, PROBLEM_NOT_FOUND, "no such decision", NULL, NULL);
        return;
    }
    const char *ver = request_query(r, "version");
    if (ver) {
        char *end;
        long v = strtol(ver, &end, 10);
        if (!*ver || *end || v < 1 || v > 1000000) {
            request_problem(r, PROBLEM_INVALID_PARAMETER, "version must be a positive integer",
                            NULL, NULL);
            return;
        }
    }
    struct decision_job *job = calloc(1, sizeof *job);
    if (!job) {
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        return;
    }
    job->r = r;
    const char *params[] = {id, ver};
    pg_submit(request_worker(r)->pool, &Q_DECISION_GET, params, get_cb, job);
}
