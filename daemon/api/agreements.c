/*
 * h_agreement: an agreement is the answer a provider was given, recorded
 * before it was sent. GET returns it byte for byte (the issuing provider
 * and auditors only; anyone else gets 404). The issuing provider may void
 * it (it will not bill it): the agreement stays as it was, a void is
 * recorded beside it, and what it granted of a monthly cap goes back to
 * the month. A voided agreement is answered with the header
 * Agreement-Voided-At.
 */
#include "api/agreements.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ids.h"
#include "proto/lifecycle.h"
#include "db/db.h"
#include "db/pg.h"
#include "db/queries.h"
#include "http/router.h"
#include "net/server.h"

static bool number_ok(const char *n)
{
    return ids_registry_number(n, 'A');
}

static void not_found(struct request *r)
{
    request_problem(r, PROBLEM_NOT_FOUND, "no such agreement", NULL, NULL);
}

static void get_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct request *r = arg;
    if (o != PG_OK) {
        request_db_error(r, o, res);
        return;
    }
    const struct principal *p = request_principal(r);
    if (PQntuples(res) != 1 ||
        (p->role == ROLE_PROVIDER && strcmp(PQgetvalue(res, 0, 1), p->org) != 0)) {
        not_found(r);
        return;
    }
    if (!PQgetisnull(res, 0, 2))
        request_add_header(r, "Agreement-Voided-At", PQgetvalue(res, 0, 2));
    request_json(r, 200, strdup(PQgetvalue(res, 0, 0)));
}

void h_agreement_get(struct request *r)
{
    const char *n = request_param(r, 0);
    if (!number_ok(n)) {
        not_found(r);
        return;
    }
    const char *params[] = {n};
    pg_submit(db_pool(request_db(r)), &Q_AGREEMENT_GET, params, get_cb, r);
}

static void void_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct request *r = arg;
    if (o == PG_ERROR && strcmp(pg_sqlstate(res), "23505") == 0) {
        request_problem(r, PROBLEM_INVALID_STATUS, "this agreement is already void", NULL, NULL);
        return;
    }
    if (o != PG_OK) {
        request_db_error(r, o, res);
        return;
    }
    if (PQntuples(res) != 1) {
        not_found(r);
        return;
    }
    char *body = malloc(96);
    if (body)
        snprintf(body, 96, "{\"agreement\":\"%s\",\"voided_at\":\"%s\"}", PQgetvalue(res, 0, 0),
                 PQgetvalue(res, 0, 1));
    request_json(r, 200, body);
}

void h_agreement_void(struct request *r)
{
    const char *n = request_param(r, 0);
    if (!number_ok(n)) {
        not_found(r);
        return;
    }
    size_t len;
    const char *body = request_body(r, &len);
    struct verrs errs;
    switch (empty_parse(body, len, &errs)) {
    case PARSE_MALFORMED:
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body must be empty or {}", NULL, NULL);
        return;
    case PARSE_INVALID:
        request_problem(r, PROBLEM_VALIDATION_FAILED, "the body must be empty or {}", &errs, NULL);
        return;
    case PARSE_OK:
        break;
    }
    const struct principal *p = request_principal(r);
    char pid[24];
    snprintf(pid, sizeof pid, "%lld", (long long)p->id);
    const char *params[] = {n, p->org, pid};
    pg_submit(db_pool(request_db(r)), &Q_AGREEMENT_VOID, params, void_cb, r);
}
