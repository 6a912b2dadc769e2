/*
 * h_decision: decisions, as the OCMW records and changes them.
 *
 * Every write goes through one state machine:
 *
 *   start --key?--> idempotency lookup --seen--> replay the first answer
 *     |                    | new
 *     v                    v
 *   create ----------> write (one statement: decision + version + key)
 *   change --> load current --> rules --> write (guarded by the version)
 *
 *   write failed:  exclusion (23P01) -> 409 naming the other decision
 *                  key taken meanwhile (23505) -> lookup again -> replay
 *                  version moved on (no row) -> 412 with the current one
 *
 * The recording OCMW is always the principal's organisation, never the
 * body's. A version is stored as the canonical encoding of the validated
 * document and read back through the same parser, so what is answered is
 * what the validator accepted, byte for byte on a replay.
 */
#include "api/decisions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "base/hex.h"
#include "proto/ids.h"
#include "proto/lifecycle.h"
#include "base/log.h"
#include "db/db.h"
#include "db/pg.h"
#include "db/queries.h"
#include "http/router.h"
#include "net/server.h"

enum op { OP_CREATE, OP_UPDATE, OP_SUSPEND, OP_RESUME, OP_STOP };
static const char *const op_change[] = {"create", "update", "suspend", "resume", "stop"};

struct job {
    struct request *r;
    enum op op;
    const char *id;  /* path parameter (changes) */
    int if_match;    /* 0: none given */
    const char *key; /* Idempotency-Key, or NULL */
    char hash[65];   /* of the request, to recognise a retry */
    bool looked_up_again;
    bool overlapped; /* the write hit the one-decision-per-day constraint */
    int deadlocks;
    pdate stop_end;
    struct decision cur;  /* current version (changes) */
    struct decision next; /* what is being written */
};

/* A job for request r, or NULL when memory ran out (r is answered). */
static struct job *job_new(struct request *r)
{
    struct job *job = calloc(1, sizeof *job);
    if (!job) {
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        return NULL;
    }
    job->r = r;
    return job;
}

static void job_done(struct job *job)
{
    free(job);
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

/* A database step failed: answer it (503 or 500) and end the job. */
static bool db_failed(struct job *job, enum pg_outcome o, const PGresult *res)
{
    if (o == PG_OK)
        return false;
    request_db_error(job->r, o, res);
    job_done(job);
    return true;
}

static bool decision_id_ok(const char *id)
{
    return ids_registry_number(id, 'D');
}

static void not_found(struct request *r)
{
    request_problem(r, PROBLEM_NOT_FOUND, "no such decision (or version)", NULL, NULL);
}

/* the stored decision could not be read back: a bug or corruption */
static void unreadable(struct request *r, const char *id)
{
    log_ctx(LOG_ERROR, request_log_prefix(r), "stored decision %s does not parse", id);
    request_problem(r, PROBLEM_INTERNAL_ERROR, "stored decision unreadable", NULL, NULL);
}

static void respond_decision(struct request *r, int status, const struct decision *d)
{
    if (status == 201) {
        char location[64];
        snprintf(location, sizeof location, "/v1/decisions/%s", d->id);
        request_add_header(r, "Location", location);
    }
    request_json(r, status, decision_encode(d, true));
}

/* ---- request preconditions ------------------------------------------------- */

static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return false;
    return true;
}

/* If-Match: 3, "3" or W/"3" */
static bool parse_if_match(const char *v, int *out)
{
    if (strncmp(v, "W/", 2) == 0)
        v += 2;
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n < 1 || n > 9)
        return false;
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return x >= 1;
}

static void request_hash(struct job *job)
{
    size_t len;
    const char *body = request_body(job->r, &len);
    char head[64];
    int hl = snprintf(head, sizeof head, "%s\n%s\n%d\n", op_change[job->op], job->id ? job->id : "",
                      job->if_match);
    sha256_hex2(head, (size_t)hl, body, len, job->hash);
}

/* ---- the write ----------------------------------------------------------------- */

static void idem_lookup(struct job *job);
static void submit_write(struct job *job);
static void proceed(struct job *job);

static void conflict_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o, res))
        return;
    cJSON *extra = cJSON_CreateObject();
    cJSON *c = extra ? cJSON_AddObjectToObject(extra, "conflict") : NULL;
    if (c && PQntuples(res) == 1) {
        /* the other decision's number and OCMW, nothing more */
        cJSON_AddStringToObject(c, "decision", PQgetvalue(res, 0, 0));
        cJSON_AddStringToObject(c, "ocmw", PQgetvalue(res, 0, 1));
    }
    request_problem(r, PROBLEM_DECISION_OVERLAP,
                    "another decision of the same kind already covers this person on some "
                    "of these days",
                    NULL, extra);
    cJSON_Delete(extra);
    job_done(job);
}

static void report_conflict(struct job *job)
{
    const struct decision *d = &job->next;
    char start[PDATE_STRLEN + 1], end[PDATE_STRLEN + 1];
    date_format(d->period.start, start);
    date_format(d->period.end, end);
    const char *params[] = {d->ssin, decision_kind_name(d->kind), start, end, job->id};
    pg_submit(db_pool(request_db(job->r)), &Q_DECISION_CONFLICT, params, conflict_cb, job);
}

static void stale_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o, res))
        return;
    if (PQntuples(res) != 1) {
        not_found(r);
        job_done(job);
        return;
    }
    cJSON *extra = cJSON_CreateObject();
    if (extra)
        cJSON_AddNumberToObject(extra, "current_version", atoi(PQgetvalue(res, 0, 6)));
    request_problem(r, PROBLEM_VERSION_MISMATCH,
                    "the decision changed since that version; read it again", NULL, extra);
    cJSON_Delete(extra);
    job_done(job);
}

static void write_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct job *job = arg;
    struct request *r = job->r;
    struct decision *d = &job->next;
    const char *state = pg_sqlstate(res);
    if (o == PG_ERROR && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0) &&
        job->deadlocks++ < 5) {
        /* concurrent writes for one person can deadlock while checking the
         * exclusion constraint; the database rolled ours back: write again */
        submit_write(job);
        return;
    }
    bool overlap = o == PG_ERROR && strcmp(state, "23P01") == 0;
    if ((overlap || (o == PG_ERROR && strcmp(state, "23505") == 0)) && job->key &&
        !job->looked_up_again) {
        /* the same request (same key) may have gone through meanwhile, and
         * we waited on it: answer as it was answered */
        job->looked_up_again = true;
        job->overlapped = overlap;
        idem_lookup(job);
        return;
    }
    if (overlap) {
        report_conflict(job);
        return;
    }
    if (db_failed(job, o, res))
        return;
    if (PQntuples(res) != 1) {
        /* the version moved on between our read and our write */
        const char *params[] = {job->id, NULL};
        pg_submit(db_pool(request_db(r)), &Q_DECISION_GET, params, stale_cb, job);
        return;
    }
    d->has_meta = true;
    snprintf(d->id, sizeof d->id, "%s", PQgetvalue(res, 0, 0));
    d->version = atoi(PQgetvalue(res, 0, 1));
    snprintf(d->ocmw, sizeof d->ocmw, "%s", request_principal(r)->org);
    snprintf(d->recorded_at, sizeof d->recorded_at, "%s", PQgetvalue(res, 0, 2));
    log_ctx(LOG_INFO, request_log_prefix(r), "decision %s version %d: %s", d->id, d->version,
            op_change[job->op]);
    respond_decision(r, job->op == OP_CREATE ? 201 : 200, d);
    job_done(job);
}

static void submit_write(struct job *job)
{
    struct request *r = job->r;
    const struct decision *d = &job->next;
    char *stored = decision_encode(d, false);
    if (!stored) {
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        job_done(job);
        return;
    }
    char pid[24], start[PDATE_STRLEN + 1], end[PDATE_STRLEN + 1], ver[16];
    snprintf(pid, sizeof pid, "%lld", (long long)request_principal(r)->id);
    date_format(d->period.start, start);
    date_format(d->period.end, end);
    const char *hash = job->key ? job->hash : NULL;
    if (job->op == OP_CREATE) {
        const char *params[] = {request_principal(r)->org,
                                d->ssin,
                                decision_kind_name(d->kind),
                                pid,
                                start,
                                end,
                                stored,
                                job->key,
                                hash};
        pg_submit(db_pool(request_db(r)), &Q_DECISION_INSERT, params, write_cb, job);
    } else {
        snprintf(ver, sizeof ver, "%d", job->cur.version);
        const char *params[] = {job->id,
                                request_principal(r)->org,
                                ver,
                                decision_status_name(d->status),
                                start,
                                end,
                                stored,
                                pid,
                                op_change[job->op],
                                job->key,
                                hash};
        pg_submit(db_pool(request_db(r)), &Q_DECISION_NEW_VERSION, params, write_cb, job);
    }
    free(stored);
}

/* The current version is loaded: apply the change to it. */
static void load_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o, res))
        return;
    const struct principal *p = request_principal(r);
    /* only the OCMW that made it may change it; others learn nothing */
    if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 3), p->org) != 0) {
        not_found(r);
        job_done(job);
        return;
    }
    if (!h_decision_from_row(res, 0, &job->cur)) {
        unreadable(r, job->id);
        job_done(job);
        return;
    }
    struct decision *cur = &job->cur, *next = &job->next;
    if (job->if_match && job->if_match != cur->version) {
        cJSON *extra = cJSON_CreateObject();
        if (extra)
            cJSON_AddNumberToObject(extra, "current_version", cur->version);
        char d[96];
        snprintf(d, sizeof d, "If-Match is version %d; the current version is %d", job->if_match,
                 cur->version);
        request_problem(r, PROBLEM_VERSION_MISMATCH, d, NULL, extra);
        cJSON_Delete(extra);
        job_done(job);
        return;
    }
    const char *refusal = NULL;
    switch (job->op) {
    case OP_UPDATE:
    case OP_STOP:
        if (cur->status == DS_STOPPED)
            refusal = "the decision is stopped: record a new decision";
        break;
    case OP_SUSPEND:
        if (cur->status != DS_ACTIVE)
            refusal = cur->status == DS_SUSPENDED ? "the decision is already suspended"
                                                  : "a stopped decision cannot be suspended";
        break;
    case OP_RESUME:
        if (cur->status != DS_SUSPENDED)
            refusal = "only a suspended decision can be resumed";
        break;
    case OP_CREATE:
        break;
    }
    if (refusal) {
        request_problem(r, PROBLEM_INVALID_STATUS, refusal, NULL, NULL);
        job_done(job);
        return;
    }
    struct verrs errs;
    verrs_init(&errs);
    pdate today = request_today(r);
    if (job->op == OP_UPDATE) {
        size_t len;
        const char *body = request_body(r, &len);
        switch (decision_parse_update(body, len, today, cur, next, &errs)) {
        case PARSE_MALFORMED:
            request_problem(r, PROBLEM_MALFORMED_JSON, "the body is not a JSON object", NULL, NULL);
            job_done(job);
            return;
        case PARSE_INVALID:
            request_problem(r, PROBLEM_VALIDATION_FAILED, "the change breaks one or more rules",
                            &errs, NULL);
            job_done(job);
            return;
        case PARSE_OK:
            break;
        }
        next->status = cur->status; /* a change does not resume or suspend */
    } else {
        *next = *cur;
        if (job->op == OP_SUSPEND)
            next->status = DS_SUSPENDED;
        else if (job->op == OP_RESUME)
            next->status = DS_ACTIVE;
        else if (!decision_apply_stop(next, job->stop_end, today, &errs)) {
            request_problem(r, PROBLEM_VALIDATION_FAILED, "the stop breaks a rule", &errs, NULL);
            job_done(job);
            return;
        }
    }
    submit_write(job);
}

static void proceed(struct job *job)
{
    if (job->op == OP_CREATE) {
        submit_write(job);
        return;
    }
    const char *params[] = {job->id, NULL};
    pg_submit(db_pool(request_db(job->r)), &Q_DECISION_GET, params, load_cb, job);
}

static void replay_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (o != PG_OK || PQntuples(res) != 1) {
        request_db_error(r, o == PG_OK ? PG_ERROR : o, res);
        job_done(job);
        return;
    }
    if (!h_decision_from_row(res, 0, &job->next)) {
        unreadable(r, PQgetvalue(res, 0, 0));
        job_done(job);
        return;
    }
    respond_decision(r, job->op == OP_CREATE ? 201 : 200, &job->next);
    job_done(job);
}

static void idem_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o, res))
        return;
    if (PQntuples(res) == 0) {
        if (job->overlapped)
            report_conflict(job); /* not our key: a real overlap */
        else
            proceed(job);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), job->hash) != 0) {
        request_problem(r, PROBLEM_IDEMPOTENCY_KEY_REUSED,
                        "this Idempotency-Key was used for a different request", NULL, NULL);
        job_done(job);
        return;
    }
    log_ctx(LOG_INFO, request_log_prefix(r), "retry of %s version %s: first answer repeated",
            PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    const char *params[] = {PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2)};
    pg_submit(db_pool(request_db(r)), &Q_DECISION_GET, params, replay_cb, job);
}

static void idem_lookup(struct job *job)
{
    const char *params[] = {request_principal(job->r)->org, job->key};
    pg_submit(db_pool(request_db(job->r)), &Q_IDEMPOTENCY_GET, params, idem_cb, job);
}

/* Checks common to every write, then the idempotency lookup or the work. */
static void write_start(struct request *r, enum op op)
{
    struct job *job = job_new(r);
    if (!job)
        return;
    job->op = op;
    if (op != OP_CREATE) {
        job->id = request_param(r, 0);
        if (!decision_id_ok(job->id)) {
            not_found(r);
            job_done(job);
            return;
        }
    }
    const char *im = request_header(r, "If-Match");
    if (im && !parse_if_match(im, &job->if_match)) {
        request_problem(r, PROBLEM_INVALID_PARAMETER,
                        "If-Match must be a version number (e.g. 3 or \"3\")", NULL, NULL);
        job_done(job);
        return;
    }
    if (op == OP_UPDATE && !im) {
        request_problem(r, PROBLEM_PRECONDITION_REQUIRED,
                        "a change needs If-Match with the version it changes", NULL, NULL);
        job_done(job);
        return;
    }
    job->key = request_header(r, "Idempotency-Key");
    if (job->key && !key_ok(job->key)) {
        request_problem(r, PROBLEM_INVALID_PARAMETER,
                        "Idempotency-Key must be 1 to 255 visible ASCII characters", NULL, NULL);
        job_done(job);
        return;
    }
    request_hash(job);

    /* bodies that need no current version are checked before any I/O */
    struct verrs errs;
    verrs_init(&errs);
    size_t len;
    const char *body = request_body(r, &len);
    enum parse_result pr = PARSE_OK;
    if (op == OP_CREATE)
        pr = decision_parse_input(body, len, request_today(r), &job->next, &errs);
    else if (op == OP_STOP)
        pr = stop_parse(body, len, &job->stop_end, &errs);
    else if (op == OP_SUSPEND || op == OP_RESUME)
        pr = empty_parse(body, len, &errs);
    if (pr == PARSE_MALFORMED) {
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body is not a JSON object", NULL, NULL);
        job_done(job);
        return;
    }
    if (pr == PARSE_INVALID) {
        request_problem(r, PROBLEM_VALIDATION_FAILED, "the request breaks one or more rules", &errs,
                        NULL);
        job_done(job);
        return;
    }
    if (job->key)
        idem_lookup(job);
    else
        proceed(job);
}

void h_decision_create(struct request *r)
{
    write_start(r, OP_CREATE);
}
void h_decision_update(struct request *r)
{
    write_start(r, OP_UPDATE);
}
void h_decision_suspend(struct request *r)
{
    write_start(r, OP_SUSPEND);
}
void h_decision_resume(struct request *r)
{
    write_start(r, OP_RESUME);
}
void h_decision_stop(struct request *r)
{
    write_start(r, OP_STOP);
}

/* ---- reading ---------------------------------------------------------------- */

static void get_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o, res))
        return;
    const struct principal *p = request_principal(r);
    /* another OCMW learns nothing, not even that the decision exists */
    if (PQntuples(res) != 1 ||
        (p->role == ROLE_OCMW && strcmp(PQgetvalue(res, 0, 3), p->org) != 0)) {
        not_found(r);
        job_done(job);
        return;
    }
    if (!h_decision_from_row(res, 0, &job->next)) {
        unreadable(r, PQgetvalue(res, 0, 0));
        job_done(job);
        return;
    }
    respond_decision(r, 200, &job->next);
    job_done(job);
}

void h_decision_get(struct request *r)
{
    const char *id = request_param(r, 0);
    if (!decision_id_ok(id)) {
        not_found(r);
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
    struct job *job = job_new(r);
    if (!job)
        return;
    const char *params[] = {id, ver};
    pg_submit(db_pool(request_db(r)), &Q_DECISION_GET, params, get_cb, job);
}

static void history_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o, res))
        return;
    const struct principal *p = request_principal(r);
    int n = PQntuples(res);
    if (n == 0 || (p->role == ROLE_OCMW && strcmp(PQgetvalue(res, 0, 3), p->org) != 0)) {
        not_found(r);
        job_done(job);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    bool ok = root && cJSON_AddStringToObject(root, "id", PQgetvalue(res, 0, 0));
    cJSON *versions = ok ? cJSON_AddArrayToObject(root, "versions") : NULL;
    ok = ok && versions;
    for (int i = 0; ok && i < n; i++) {
        if (!h_decision_from_row(res, i, &job->next)) {
            cJSON_Delete(root);
            unreadable(r, PQgetvalue(res, i, 0));
            job_done(job);
            return;
        }
        char *doc = decision_encode(&job->next, true);
        cJSON *v = cJSON_CreateObject();
        cJSON *by = cJSON_CreateObject();
        ok = doc && v && by && cJSON_AddItemToArray(versions, v) &&
             cJSON_AddNumberToObject(v, "version", job->next.version) &&
             cJSON_AddStringToObject(v, "change", PQgetvalue(res, i, 6)) &&
             cJSON_AddStringToObject(v, "recorded_at", PQgetvalue(res, i, 5)) &&
             cJSON_AddItemToObject(v, "recorded_by", by) &&
             cJSON_AddNumberToObject(by, "principal", atof(PQgetvalue(res, i, 7))) &&
             cJSON_AddStringToObject(by, "role", PQgetvalue(res, i, 8)) &&
             cJSON_AddStringToObject(by, "organisation", PQgetvalue(res, i, 9)) &&
             cJSON_AddStringToObject(by, "name", PQgetvalue(res, i, 10)) &&
             cJSON_AddRawToObject(v, "decision", doc);
        if (!ok && by && !cJSON_IsObject(cJSON_GetObjectItem(v, "recorded_by")))
            cJSON_Delete(by);
        if (!ok && v && !cJSON_GetArrayItem(versions, i))
            cJSON_Delete(v);
        free(doc);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    request_json(r, 200, text);
    job_done(job);
}

void h_decision_history(struct request *r)
{
    const char *id = request_param(r, 0);
    if (!decision_id_ok(id)) {
        not_found(r);
        return;
    }
    struct job *job = job_new(r);
    if (!job)
        return;
    const char *params[] = {id};
    pg_submit(db_pool(request_db(r)), &Q_DECISION_HISTORY, params, history_cb, job);
}

static void person_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o, res))
        return;
    bool full = request_principal(r)->role == ROLE_AUDITOR;
    cJSON *root = cJSON_CreateObject();
    bool ok = root && cJSON_AddStringToObject(root, "ssin", request_param(r, 0));
    cJSON *list = ok ? cJSON_AddArrayToObject(root, "decisions") : NULL;
    ok = ok && list;
    for (int i = 0; ok && i < PQntuples(res); i++) {
        if (!h_decision_from_row(res, i, &job->next)) {
            cJSON_Delete(root);
            unreadable(r, PQgetvalue(res, i, 0));
            job_done(job);
            return;
        }
        if (full) {
            char *doc = decision_encode(&job->next, true);
            cJSON *raw = doc ? cJSON_CreateRaw(doc) : NULL;
            free(doc);
            ok = raw && cJSON_AddItemToArray(list, raw);
            if (!ok)
                cJSON_Delete(raw);
        } else {
            cJSON *s = decision_summary_json(&job->next);
            ok = s && cJSON_AddItemToArray(list, s);
            if (!ok)
                cJSON_Delete(s);
        }
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    request_json(r, 200, text);
    job_done(job);
}

void h_beneficiary_decisions(struct request *r)
{
    const char *ssin = request_param(r, 0);
    if (!ssin || !ids_ssin_valid(ssin, strlen(ssin))) {
        request_problem(r, PROBLEM_INVALID_PARAMETER,
                        "the path must hold a valid SSIN (11 digits with check digits)", NULL,
                        NULL);
        return;
    }
    struct job *job = job_new(r);
    if (!job)
        return;
    const char *params[] = {ssin};
    pg_submit(db_pool(request_db(r)), &Q_DECISIONS_OF_PERSON, params, person_cb, job);
}
