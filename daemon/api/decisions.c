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

#include "proto/ids.h"
#include "proto/lifecycle.h"
#include "api/common.h"
#include "api/reads.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "db/decisions.h"

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

static struct job *job_new(struct request *r)
{
    struct job *job = xcalloc(1, sizeof *job);
    job->r = r;
    return job;
}

static void job_done(struct job *job)
{
    free(job);
}

/* A database step failed: answer it (503 or 500) and end the job. */
static bool db_failed(struct job *job, enum pg_outcome o)
{
    if (o == PG_OK)
        return false;
    api_db_error(job->r, o);
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

static void respond_decision(struct request *r, int status, const struct decision *d)
{
    if (status == 201) {
        char location[64];
        snprintf(location, sizeof location, "/v1/decisions/%s", d->id);
        request_add_header(r, "Location", location);
    }
    char etag[24];
    snprintf(etag, sizeof etag, "\"%d\"", d->version);
    request_add_header(r, "ETag", etag);
    request_json(r, status, decision_encode(d, true));
}

/* ---- request preconditions ------------------------------------------------- */

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

static void conflict_cb(void *arg, enum pg_outcome o, const char *decision, const char *ocmw)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o))
        return;
    cJSON *extra = cJSON_CreateObject();
    cJSON *c = cJSON_AddObjectToObject(extra, "conflict");
    if (decision) {
        /* the other decision's number and OCMW, nothing more */
        cJSON_AddStringToObject(c, "decision", decision);
        cJSON_AddStringToObject(c, "ocmw", ocmw);
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
    db_decision_conflict(request_db(job->r), &job->next, job->id, conflict_cb, job);
}

static void stale_cb(void *arg, enum pg_outcome o, const struct decision *d, int current_version)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o))
        return;
    if (!d) {
        not_found(r);
        job_done(job);
        return;
    }
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(extra, "current_version", current_version);
    request_problem(r, PROBLEM_VERSION_MISMATCH,
                    "the decision changed since that version; read it again", NULL, extra);
    cJSON_Delete(extra);
    job_done(job);
}

static void write_cb(void *arg, enum pg_outcome o, enum decision_write_result w, const char *id,
                     int version, const char *recorded_at)
{
    struct job *job = arg;
    struct request *r = job->r;
    struct decision *d = &job->next;
    if (db_failed(job, o))
        return;
    bool overlap = w == DW_OVERLAP;
    if ((overlap || w == DW_KEY_TAKEN) && job->key && !job->looked_up_again) {
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
    if (w == DW_KEY_TAKEN) {
        db_failed(job, PG_ERROR); /* a key taken without a key: cannot be */
        return;
    }
    if (w == DW_STALE) {
        /* the version moved on between our read and our write */
        db_decision_get(request_db(r), job->id, 0, stale_cb, job);
        return;
    }
    d->has_meta = true;
    snprintf(d->id, sizeof d->id, "%s", id);
    d->version = version;
    snprintf(d->ocmw, sizeof d->ocmw, "%s", request_principal(r)->org);
    snprintf(d->recorded_at, sizeof d->recorded_at, "%s", recorded_at);
    log_ctx(LOG_INFO, request_log_prefix(r), "decision %s version %d: %s", d->id, d->version,
            op_change[job->op]);
    respond_decision(r, job->op == OP_CREATE ? 201 : 200, d);
    job_done(job);
}

static void submit_write(struct job *job)
{
    struct request *r = job->r;
    const struct principal *p = request_principal(r);
    struct decision_write w = {
        .id = job->op == OP_CREATE ? NULL : job->id,
        .ocmw = p->org,
        .principal = p->id,
        .replaces = job->cur.version,
        .change = op_change[job->op],
        .key = job->key,
        .hash = job->hash,
        .d = &job->next,
    };
    db_decision_write(request_db(r), &w, write_cb, job);
}

/* The current version is loaded: apply the change to it. */
static void load_cb(void *arg, enum pg_outcome o, const struct decision *d, int current_version)
{
    (void)current_version;
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o))
        return;
    const struct principal *p = request_principal(r);
    /* only the OCMW that made it may change it; others learn nothing */
    if (!d || strcmp(d->ocmw, p->org) != 0) {
        not_found(r);
        job_done(job);
        return;
    }
    job->cur = *d;
    struct decision *cur = &job->cur, *next = &job->next;
    if (job->if_match && job->if_match != cur->version) {
        cJSON *extra = cJSON_CreateObject();
        cJSON_AddNumberToObject(extra, "current_version", cur->version);
        char detail[96];
        snprintf(detail, sizeof detail, "If-Match is version %d; the current version is %d",
                 job->if_match, cur->version);
        request_problem(r, PROBLEM_VERSION_MISMATCH, detail, NULL, extra);
        cJSON_Delete(extra);
        job_done(job);
        return;
    }
    static const enum decision_change change_of[] = {[OP_UPDATE] = DC_UPDATE,
                                                     [OP_SUSPEND] = DC_SUSPEND,
                                                     [OP_RESUME] = DC_RESUME,
                                                     [OP_STOP] = DC_STOP};
    ASSERT(job->op != OP_CREATE); /* a new decision has no current version */
    struct decision_transition t = decision_transition(cur->status, change_of[job->op]);
    if (!t.allowed) {
        request_problem(r, t.problem, t.detail, NULL, NULL);
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
    } else {
        *next = *cur;
        if (job->op == OP_STOP && !decision_apply_stop(next, job->stop_end, today, &errs)) {
            request_problem(r, PROBLEM_VALIDATION_FAILED, "the stop breaks a rule", &errs, NULL);
            job_done(job);
            return;
        }
    }
    next->status = t.to; /* an update keeps the status (proto/lifecycle.c) */
    submit_write(job);
}

static void proceed(struct job *job)
{
    if (job->op == OP_CREATE) {
        submit_write(job);
        return;
    }
    db_decision_get(request_db(job->r), job->id, 0, load_cb, job);
}

static void replay_cb(void *arg, enum pg_outcome o, const struct decision *d, int current_version)
{
    (void)current_version;
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o == PG_OK && !d ? PG_ERROR : o))
        return;
    respond_decision(r, job->op == OP_CREATE ? 201 : 200, d);
    job_done(job);
}

static void idem_cb(void *arg, enum pg_outcome o, const struct idempotency_rec *k)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o))
        return;
    if (!k) {
        if (job->overlapped)
            report_conflict(job); /* not our key: a real overlap */
        else
            proceed(job);
        return;
    }
    if (strcmp(k->request_hash, job->hash) != 0) {
        request_problem(r, PROBLEM_IDEMPOTENCY_KEY_REUSED,
                        "this Idempotency-Key was used for a different request", NULL, NULL);
        job_done(job);
        return;
    }
    log_ctx(LOG_INFO, request_log_prefix(r), "retry of %s version %d: first answer repeated",
            k->decision_id, k->version);
    db_decision_get(request_db(r), k->decision_id, k->version, replay_cb, job);
}

static void idem_lookup(struct job *job)
{
    db_idempotency_get(request_db(job->r), request_principal(job->r)->org, job->key, idem_cb, job);
}

/* Checks common to every write, then the idempotency lookup or the work. */
static void write_start(struct request *r, enum op op)
{
    struct job *job = job_new(r);
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
    if (job->key && !api_idempotency_key_ok(job->key)) {
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

static void get_cb(void *arg, enum pg_outcome o, const struct decision *d, int current_version)
{
    (void)current_version;
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o))
        return;
    const struct principal *p = request_principal(r);
    /* another OCMW learns nothing, not even that the decision exists */
    if (!d || (p->role == ROLE_OCMW && strcmp(d->ocmw, p->org) != 0)) {
        not_found(r);
        job_done(job);
        return;
    }
    char object[48];
    snprintf(object, sizeof object, "%s/%d", d->id, d->version);
    /* the version is the entity tag; an unchanged decision is still a read of it */
    char etag[24];
    snprintf(etag, sizeof etag, "\"%d\"", d->version);
    if (request_etag(r, etag))
        api_read_answer(r, "read.decision", object, d->ssin, 304, NULL);
    else
        api_read_answer(r, "read.decision", object, d->ssin, 200, decision_encode(d, true));
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
    long v = 0;
    if (ver) {
        char *end;
        v = strtol(ver, &end, 10);
        if (!*ver || *end || v < 1 || v > 1000000) {
            request_problem(r, PROBLEM_INVALID_PARAMETER, "version must be a positive integer",
                            NULL, NULL);
            return;
        }
    }
    db_decision_get(request_db(r), id, (int)v, get_cb, job_new(r));
}

static void history_cb(void *arg, enum pg_outcome o, const struct decision_history_entry *v,
                       size_t n)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o))
        return;
    const struct principal *p = request_principal(r);
    if (n == 0 || (p->role == ROLE_OCMW && strcmp(v[0].d.ocmw, p->org) != 0)) {
        not_found(r);
        job_done(job);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "id", v[0].d.id);
    cJSON *versions = cJSON_AddArrayToObject(root, "versions");
    for (size_t i = 0; i < n; i++) {
        char *doc = decision_encode(&v[i].d, true);
        ASSERT(doc != NULL);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(versions, e);
        cJSON_AddNumberToObject(e, "version", v[i].d.version);
        cJSON_AddStringToObject(e, "change", v[i].change);
        cJSON_AddStringToObject(e, "recorded_at", v[i].d.recorded_at);
        cJSON *by = cJSON_AddObjectToObject(e, "recorded_by");
        cJSON_AddNumberToObject(by, "principal", (double)v[i].principal);
        cJSON_AddStringToObject(by, "role", v[i].role);
        cJSON_AddStringToObject(by, "organisation", v[i].organisation);
        cJSON_AddStringToObject(by, "name", v[i].name);
        cJSON_AddRawToObject(e, "decision", doc);
        free(doc);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    api_read_answer(r, "read.history", v[0].d.id, v[0].d.ssin, 200, text);
    job_done(job);
}

void h_decision_history(struct request *r)
{
    const char *id = request_param(r, 0);
    if (!decision_id_ok(id)) {
        not_found(r);
        return;
    }
    db_decision_history(api_auditor_db(r), id, history_cb, job_new(r));
}

static void person_cb(void *arg, enum pg_outcome o, const struct decision *ds, size_t n)
{
    struct job *job = arg;
    struct request *r = job->r;
    if (db_failed(job, o))
        return;
    bool full = request_principal(r)->role == ROLE_AUDITOR;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "ssin", request_param(r, 0));
    cJSON *list = cJSON_AddArrayToObject(root, "decisions");
    for (size_t i = 0; i < n; i++) {
        if (full) {
            char *doc = decision_encode(&ds[i], true);
            ASSERT(doc != NULL);
            cJSON_AddItemToArray(list, cJSON_CreateRaw(doc));
            free(doc);
        } else {
            cJSON *one = decision_summary_json(&ds[i]);
            ASSERT(one != NULL);
            cJSON_AddItemToArray(list, one);
        }
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    api_read_answer(r, "read.beneficiary", "beneficiary", request_param(r, 0), 200, text);
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
    db_decisions_of_person(api_auditor_db(r), ssin, person_cb, job_new(r));
}
