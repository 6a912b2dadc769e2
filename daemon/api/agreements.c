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
#include "api/common.h"
#include "api/reads.h"
#include "base/mem.h"
#include "db/agreements.h"

static bool number_ok(const char *n)
{
    return ids_registry_number(n, 'A');
}

static void not_found(struct request *r)
{
    request_problem(r, PROBLEM_NOT_FOUND, "no such agreement", NULL, NULL);
}

static void get_cb(void *arg, enum pg_outcome o, const struct agreement_view *a)
{
    struct request *r = arg;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    const struct principal *p = request_principal(r);
    if (!a || (p->role == ROLE_PROVIDER && strcmp(a->provider_org, p->org) != 0)) {
        not_found(r);
        return;
    }
    if (a->voided_at)
        request_add_header(r, "Agreement-Voided-At", a->voided_at);
    /* an agreement never changes but for its voiding: the number and that state */
    char etag[48];
    snprintf(etag, sizeof etag, "\"%s%s\"", request_param(r, 0), a->voided_at ? "-void" : "");
    if (request_etag(r, etag))
        api_read_answer(r, "read.agreement", request_param(r, 0), a->ssin, 304, NULL);
    else
        api_read_answer(r, "read.agreement", request_param(r, 0), a->ssin, 200, xstrdup(a->answer));
}

void h_agreement_get(struct request *r)
{
    const char *n = request_param(r, 0);
    if (!number_ok(n)) {
        not_found(r);
        return;
    }
    db_agreement_get(request_db(r), n, get_cb, r);
}

static void void_cb(void *arg, enum pg_outcome o, enum agreement_void_result v, const char *number,
                    const char *voided_at)
{
    struct request *r = arg;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    switch (v) {
    case AV_ALREADY:
        request_problem(r, PROBLEM_INVALID_STATUS, "this agreement is already void", NULL, NULL);
        return;
    case AV_NOT_FOUND:
        not_found(r);
        return;
    case AV_BILLED:
        request_problem(
            r, PROBLEM_AGREEMENT_BILLED,
            "an invoice line of this agreement was accepted: it can no longer be voided", NULL,
            NULL);
        return;
    case AV_VOIDED:
        break;
    }
    request_json(r, 200,
                 xasprintf("{\"agreement\":\"%s\",\"voided_at\":\"%s\"}", number, voided_at));
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
    db_agreement_void(request_db(r), n, p->org, p->id, void_cb, r);
}
