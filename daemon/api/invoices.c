/*
 * h_invoice: invoices, payments, statements.
 *
 * An invoice goes through:
 *
 *   parse --key?--> lookup by key --seen--> the first answer again
 *     |                  | new
 *     v                  v
 *   read the quoted agreements' facts --> check every line (proto/invoice.c)
 *     --> record invoice + lines in one statement, guarded by those facts
 *
 *   record failed: facts changed meanwhile (another invoice or a void of the
 *                  same agreement committed) -> read and check again
 *                  key taken meanwhile -> lookup again -> the first answer
 *
 * The provider is always the principal's organisation. The answer is
 * recorded as it is sent, before it is sent.
 */
#include "api/invoices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ids.h"
#include "proto/invoice.h"
#include "proto/jsonx.h"
#include "api/common.h"
#include "api/reads.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "db/invoices.h"

#define CHANGED_RETRIES 200 /* each retry follows another writer's commit */
#define LIST_DEFAULT    100
#define LIST_MAX        1000
#define STREAM_PAGE     500

static void not_found(struct request *r, const char *what)
{
    request_problem(r, PROBLEM_NOT_FOUND, what, NULL, NULL);
}

/* ---- submitting ------------------------------------------------------------------- */

struct submit {
    struct request *r;
    const char *key;
    char hash[65];
    bool looked_up_again;
    int tries;
    struct agreement_facts *facts;
    size_t n_facts;
    struct invoice_input in;
    enum invoice_reject out[INVOICE_MAX_LINES];
};

static void submit_done(struct submit *s)
{
    free(s->facts);
    s->facts = NULL;
}

static void respond_invoice(struct request *r, const char *id, const char *answer)
{
    char location[64];
    snprintf(location, sizeof location, "/v1/invoices/%s", id);
    request_add_header(r, "Location", location);
    request_json(r, 201, xstrdup(answer));
}

static void read_facts(struct submit *s);
static void lookup_key(struct submit *s);

static void record_cb(void *arg, enum pg_outcome o, enum invoice_write_result w, const char *id,
                      const char *answer)
{
    struct submit *s = arg;
    struct request *r = s->r;
    if (o != PG_OK) {
        submit_done(s);
        api_db_error(r, o);
        return;
    }
    if (w == IW_KEY_TAKEN && s->key && !s->looked_up_again) {
        s->looked_up_again = true;
        lookup_key(s);
        return;
    }
    if (w == IW_KEY_TAKEN) {
        submit_done(s);
        api_db_error(r, PG_ERROR);
        return;
    }
    if (w == IW_CHANGED) {
        if (++s->tries > CHANGED_RETRIES) {
            submit_done(s);
            api_db_error(r, PG_RETRY);
            return;
        }
        read_facts(s);
        return;
    }
    log_ctx(LOG_INFO, request_log_prefix(r), "invoice %s: %s", id,
            invoice_status(s->out, s->in.n_lines));
    /* id and answer live in the result: copied by respond_invoice */
    respond_invoice(r, id, answer);
    submit_done(s);
}

static void facts_cb(void *arg, enum pg_outcome o, struct agreement_facts *facts, size_t n)
{
    struct submit *s = arg;
    struct request *r = s->r;
    free(s->facts);
    s->facts = facts;
    s->n_facts = n;
    if (o != PG_OK) {
        submit_done(s);
        api_db_error(r, o);
        return;
    }
    pdate today = request_today(r);
    invoice_check(&s->in, facts, n, today, s->out);
    const struct principal *p = request_principal(r);
    char *answer = invoice_encode_answer(&s->in, s->out, p->org, today, request_lang(r));
    ASSERT(answer != NULL);
    struct invoice_write w = {
        .provider_id = p->id,
        .provider_org = p->org,
        .key = s->key,
        .hash = s->hash,
        .invoice_date = today,
        .in = &s->in,
        .out = s->out,
        .facts = facts,
        .n_facts = n,
        .answer = answer,
    };
    db_invoice_record(request_db(r), &w, record_cb, s);
    free(answer);
}

static void read_facts(struct submit *s)
{
    db_invoice_facts(request_db(s->r), request_principal(s->r)->org, &s->in, facts_cb, s);
}

static void key_cb(void *arg, enum pg_outcome o, const char *hash, const char *answer)
{
    struct submit *s = arg;
    struct request *r = s->r;
    if (o != PG_OK) {
        submit_done(s);
        api_db_error(r, o);
        return;
    }
    if (!hash) {
        read_facts(s);
        return;
    }
    submit_done(s);
    if (strcmp(hash, s->hash) != 0) {
        request_problem(r, PROBLEM_IDEMPOTENCY_KEY_REUSED,
                        "this Idempotency-Key was used for a different invoice", NULL, NULL);
        return;
    }
    /* the answer starts {"invoice":"I....", */
    char id[16] = "";
    if (strncmp(answer, "{\"invoice\":\"", 12) == 0)
        snprintf(id, sizeof id, "%.14s", answer + 12);
    log_ctx(LOG_INFO, request_log_prefix(r), "retry of invoice %s: first answer repeated", id);
    respond_invoice(r, id, answer);
}

static void lookup_key(struct submit *s)
{
    db_invoice_by_key(request_db(s->r), request_principal(s->r)->org, s->key, key_cb, s);
}

void h_invoice_submit(struct request *r)
{
    struct submit *s = request_alloc(r, sizeof *s);
    s->r = r;
    s->key = request_header(r, "Idempotency-Key");
    if (s->key && !api_idempotency_key_ok(s->key)) {
        request_problem(r, PROBLEM_INVALID_PARAMETER,
                        "Idempotency-Key must be 1 to 255 visible ASCII characters", NULL, NULL);
        return;
    }
    size_t len;
    const char *body = request_body(r, &len);
    sha256_hex2("invoice\n", 8, body, len, s->hash);
    struct verrs errs;
    switch (invoice_parse(body, len, &s->in, &errs)) {
    case PARSE_MALFORMED:
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body is not a JSON object", NULL, NULL);
        return;
    case PARSE_INVALID:
        request_problem(r, PROBLEM_VALIDATION_FAILED, "the invoice breaks one or more rules", &errs,
                        NULL);
        return;
    case PARSE_OK:
        break;
    }
    if (s->key)
        lookup_key(s);
    else
        read_facts(s);
}

/* ---- reading one ------------------------------------------------------------------ */

static void get_cb(void *arg, enum pg_outcome o, const char *provider_org, const char *doc)
{
    struct request *r = arg;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    const struct principal *p = request_principal(r);
    /* another provider learns nothing, not even that it exists */
    if (!doc || (p->role == ROLE_PROVIDER && strcmp(provider_org, p->org) != 0)) {
        not_found(r, "no such invoice");
        return;
    }
    request_json(r, 200, xstrdup(doc));
}

void h_invoice_get(struct request *r)
{
    const char *id = request_param(r, 0);
    if (!ids_registry_number(id, 'I')) {
        not_found(r, "no such invoice");
        return;
    }
    db_invoice_get(request_db(r), id, get_cb, r);
}

/* ---- the list ------------------------------------------------------------------------ */

enum fmt { FMT_JSON, FMT_NDJSON, FMT_CSV };

struct list {
    struct request *r;
    struct invoice_filter f;
    enum fmt fmt;
    int limit;
    char after[16];
    bool has_after;
};

static const char CSV_HEADER[] = "invoice,provider,invoice_date,reference,status,lines,"
                                 "accepted_lines,state_cents,ocmw_cents,paid_cents,submitted_at";

static void page_cb(void *arg, enum pg_outcome o, const struct invoice_row *rows, size_t n)
{
    struct list *l = arg;
    struct request *r = l->r;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    size_t total = 64;
    for (size_t i = 0; i < n; i++)
        total += strlen(rows[i].item) + 1;
    char *out = xmalloc(total);
    size_t w = (size_t)snprintf(out, total, "{\"items\":[");
    for (size_t i = 0; i < n; i++)
        w += (size_t)snprintf(out + w, total - w, "%s%s", i ? "," : "", rows[i].item);
    if (n == (size_t)l->limit)
        snprintf(out + w, total - w, "],\"next_cursor\":\"%s\"}", rows[n - 1].id);
    else
        snprintf(out + w, total - w, "],\"next_cursor\":null}");
    request_json(r, 200, out);
}

static void stream_rows_cb(void *arg, enum pg_outcome o, const struct invoice_row *rows, size_t n)
{
    struct list *l = arg;
    struct request *r = l->r;
    if (o != PG_OK) {
        api_stream_fail(r, o); /* the head is sent: the last line says so */
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *line = l->fmt == FMT_CSV ? rows[i].csv : rows[i].item;
        request_stream_line(r, line, strlen(line));
    }
    if (n < STREAM_PAGE) {
        request_stream_end(r);
        return;
    }
    snprintf(l->after, sizeof l->after, "%s", rows[n - 1].id);
    l->has_after = true;
    request_stream_next(r);
}

static void stream_proceed(void *arg)
{
    struct list *l = arg;
    db_invoice_list(request_db(l->r), &l->f, l->has_after ? l->after : NULL, STREAM_PAGE,
                    stream_rows_cb, l);
}

static void stream_stop(void *arg)
{
    struct list *l = arg;
    request_stream_end(l->r);
}

static const struct request_producer list_producer = {stream_proceed, stream_stop};

static bool bad_param(struct request *r, const char *detail)
{
    request_problem(r, PROBLEM_INVALID_PARAMETER, detail, NULL, NULL);
    return false;
}

static bool list_params(struct request *r, struct list *l)
{
    const char *v;
    if ((v = request_query(r, "provider")) != NULL) {
        if (!ids_nihii_valid(v, strlen(v)) && !ids_kbo_valid(v, strlen(v)))
            return bad_param(r, "provider must be a NIHII or KBO number");
        l->f.provider = v;
    }
    if ((v = request_query(r, "ocmw")) != NULL) {
        if (!ids_kbo_valid(v, strlen(v)))
            return bad_param(r, "ocmw must be a KBO number");
        l->f.ocmw = v;
    }
    if ((v = request_query(r, "month")) != NULL) {
        if (!month_parse(v, &l->f.month))
            return bad_param(r, "month must be YYYY-MM");
        l->f.has_month = true;
    }
    if ((v = request_query(r, "status")) != NULL) {
        if (strcmp(v, "accepted") != 0 && strcmp(v, "partial") != 0 && strcmp(v, "rejected") != 0)
            return bad_param(r, "status must be accepted, partial or rejected");
        l->f.status = v;
    }
    l->limit = LIST_DEFAULT;
    if ((v = request_query(r, "limit")) != NULL) {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 1 || n > LIST_MAX)
            return bad_param(r, "limit must be from 1 to 1000");
        l->limit = (int)n;
    }
    if ((v = request_query(r, "cursor")) != NULL) {
        if (!ids_registry_number(v, 'I'))
            return bad_param(r, "cursor must be the next_cursor of an earlier page");
        snprintf(l->after, sizeof l->after, "%s", v);
        l->has_after = true;
    }
    return true;
}

void h_invoice_list(struct request *r)
{
    struct list *l = request_alloc(r, sizeof *l);
    l->r = r;
    if (!list_params(r, l))
        return;
    const char *a = request_header(r, "Accept");
    l->fmt = a && strstr(a, "application/x-ndjson") ? FMT_NDJSON
             : a && strstr(a, "text/csv")           ? FMT_CSV
                                                    : FMT_JSON;
    if (l->fmt == FMT_JSON) {
        db_invoice_list(request_db(r), &l->f, l->has_after ? l->after : NULL, l->limit, page_cb, l);
        return;
    }
    if (l->fmt == FMT_CSV) {
        request_stream_produce(r, 200, "text/csv; charset=utf-8", &list_producer, l);
        request_stream_line(r, CSV_HEADER, sizeof CSV_HEADER - 1);
        return;
    }
    request_stream_produce(r, 200, "application/x-ndjson", &list_producer, l);
}

/* ---- payments ------------------------------------------------------------------------ */

static void payment_cb_(void *arg, enum pg_outcome o, enum payment_result p, const char *doc)
{
    struct request *r = arg;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    switch (p) {
    case PAY_NOT_FOUND:
        not_found(r, "no such invoice");
        return;
    case PAY_OVER:
        request_problem(r, PROBLEM_PAYMENT_EXCEEDS_DUE,
                        "the payments of this invoice would exceed its accepted state share", NULL,
                        NULL);
        return;
    case PAY_DUPLICATE:
        request_problem(r, PROBLEM_PAYMENT_DUPLICATE,
                        "a payment with this reference is already recorded for this invoice", NULL,
                        NULL);
        return;
    case PAY_RECORDED:
        break;
    }
    request_json(r, 201, xstrdup(doc));
}

void h_payment_add(struct request *r)
{
    const char *id = request_param(r, 0);
    if (!ids_registry_number(id, 'I')) {
        not_found(r, "no such invoice");
        return;
    }
    size_t len;
    const char *body = request_body(r, &len);
    struct payment_input p;
    struct verrs errs;
    switch (payment_parse(body, len, request_today(r), &p, &errs)) {
    case PARSE_MALFORMED:
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body is not a JSON object", NULL, NULL);
        return;
    case PARSE_INVALID:
        request_problem(r, PROBLEM_VALIDATION_FAILED, "the payment breaks one or more rules", &errs,
                        NULL);
        return;
    case PARSE_OK:
        break;
    }
    db_payment_add(request_db(r), id, &p, request_principal(r)->id, payment_cb_, r);
}

/* ---- statements ------------------------------------------------------------------- */

static void statement_cb_(void *arg, enum pg_outcome o, const char *doc)
{
    struct request *r = arg;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    /* the database's JSON has spaces around its separators: compact it as
     * every other answer is */
    char *text = jx_compact(doc);
    ASSERT(text != NULL);
    const struct principal *p = request_principal(r);
    if (p->role == ROLE_OCMW) {
        /* an OCMW's statement names the people it pays for */
        char object[48];
        snprintf(object, sizeof object, "statement/%s/%s", p->org, request_query(r, "month"));
        api_read_answer(r, "read.statement", object, NULL, 200, text);
        return;
    }
    request_json(r, 200, text);
}

void h_statement(struct request *r)
{
    pdate month;
    const char *m = request_query(r, "month");
    if (!m || !month_parse(m, &month)) {
        request_problem(r, PROBLEM_INVALID_PARAMETER, "month=YYYY-MM is required", NULL, NULL);
        return;
    }
    const struct principal *p = request_principal(r);
    db_statement(api_auditor_db(r), month, p->role == ROLE_OCMW ? p->org : NULL, statement_cb_, r);
}
