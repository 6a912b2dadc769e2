/*
 * cmd_invoice: the billing commands: invoice submit, show and list (the
 * provider's invoices, the fund's and auditors' lists), payment add (the
 * fund) and statement (the fund's or an OCMW's month).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "cmd.h"
#include "jsonspan.h"

#include "date.h"    /* proto */
#include "ids.h"     /* proto: NIHII and KBO numbers */
#include "invoice.h" /* proto: month_parse */

#define PAYMENT_REFERENCE_MAX 64
#define CENTS_MAX             9007199254740991L /* 2^53 - 1 */

const struct opt_def invoice_submit_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    {NULL, 0, NULL, NULL},
};

int cmd_invoice_submit(struct ctx *c)
{
    return write_post_input(c, "invoice submit", c->pos[0], "/v1/invoices", output_generic_table);
}

int cmd_invoice_show(struct ctx *c)
{
    int rc;
    char *path = cmd_path("invoice show", "/v1/invoices", "ID", c->pos[0], "", &rc);
    if (!path)
        return rc;
    struct api_request rq = {.method = "GET", .path = path};
    rc = exchange_and_print(c, &rq, NULL);
    free(path);
    return rc;
}

enum { IL_PROVIDER, IL_OCMW, IL_MONTH, IL_STATUS, IL_LIMIT, IL_CURSOR };
const struct opt_def invoice_list_opts[] = {
    {"provider", 0, "NIHII|KBO", "invoices of this provider"},
    {"ocmw", 0, "KBO", "invoices with a line this OCMW pays"},
    {"month", 0, "YYYY-MM", "invoices dated in this month"},
    {"status", 0, "STATUS", "accepted, partial or rejected"},
    {"limit", 0, "N", "only the first N invoices (1 to 1000), as one page"},
    {"cursor", 0, "CURSOR", "one page (of --limit, default 100) after this next_cursor"},
    {NULL, 0, NULL, NULL},
};

static int check_month(const char *v)
{
    if (v && !month_parse(v, &(pdate){0}))
        return usage_error("--month: expected a month YYYY-MM, not '%s'", v);
    return EXIT_OK;
}

int cmd_invoice_list(struct ctx *c)
{
    const char *const *o = c->opt;
    const char *st = o[IL_STATUS];
    long limit = 0;
    int rc;

    if (o[IL_PROVIDER] && !ids_nihii_valid(o[IL_PROVIDER], strlen(o[IL_PROVIDER])) &&
        !ids_kbo_valid(o[IL_PROVIDER], strlen(o[IL_PROVIDER])))
        return usage_error("--provider: expected an NIHII number (11 digits) or a KBO number "
                           "(10 digits), not '%s'",
                           o[IL_PROVIDER]);
    if (o[IL_OCMW] && !ids_kbo_valid(o[IL_OCMW], strlen(o[IL_OCMW])))
        return usage_error("--ocmw: expected a KBO number (10 digits), not '%s'", o[IL_OCMW]);
    if ((rc = check_month(o[IL_MONTH])) != EXIT_OK)
        return rc;
    if (st && strcmp(st, "accepted") != 0 && strcmp(st, "partial") != 0 &&
        strcmp(st, "rejected") != 0)
        return usage_error("--status: expected accepted, partial or rejected, not '%s'", st);
    if (o[IL_LIMIT] && !parse_long(o[IL_LIMIT], 1, AUDIT_PAGE_MAX, &limit))
        return usage_error("--limit: expected a whole number from 1 to %d, not '%s'",
                           AUDIT_PAGE_MAX, o[IL_LIMIT]);
    if (o[IL_CURSOR] && !ids_registry_number(o[IL_CURSOR], 'I'))
        return usage_error("--cursor: expected the next_cursor of an earlier page (an invoice "
                           "number), not '%s'",
                           o[IL_CURSOR]);
    if (o[IL_CURSOR] && !limit)
        limit = 100;

    struct query q = {0};
    buf_add(&q.b, "/v1/invoices", strlen("/v1/invoices"));
    query_add(&q, "provider", o[IL_PROVIDER]);
    query_add(&q, "ocmw", o[IL_OCMW]);
    query_add(&q, "month", o[IL_MONTH]);
    query_add(&q, "status", st);
    query_add(&q, "cursor", o[IL_CURSOR]);
    rc = list_fetch(c, LIST_INVOICES, &q, limit);
    free(q.b.p);
    return rc;
}

enum { PA_AMOUNT, PA_DATE, PA_REFERENCE };
const struct opt_def payment_add_opts[] = {
    {"amount-cents", 0, "N", "required: the amount paid, in cents (1 to 2^53 - 1)"},
    {"date", 0, "YYYY-MM-DD", "required: the day it was paid (not after today)"},
    {"reference", 0, "REF", "required: the payment's reference (1 to 64 visible characters)"},
    {NULL, 0, NULL, NULL},
};

int cmd_payment_add(struct ctx *c)
{
    const char *amount = c->opt[PA_AMOUNT], *date = c->opt[PA_DATE], *ref = c->opt[PA_REFERENCE];
    long cents;
    int rc;

    if (!amount || !date || !ref)
        return usage_error("payment add: missing%s%s%s", amount ? "" : " --amount-cents",
                           date ? "" : " --date", ref ? "" : " --reference");
    if (!parse_long(amount, 1, CENTS_MAX, &cents))
        return usage_error("--amount-cents: expected a whole number of cents from 1 to "
                           "9007199254740991, not '%s'",
                           amount);
    if (!date_parse(date, strlen(date), &(pdate){0}))
        return usage_error("--date: expected a calendar date YYYY-MM-DD, not '%s'", date);
    if (!header_safe(ref, PAYMENT_REFERENCE_MAX))
        return usage_error("--reference: 1 to %d visible ASCII characters", PAYMENT_REFERENCE_MAX);
    char *path = cmd_path("payment add", "/v1/invoices", "INVOICE", c->pos[0], "/payments", &rc);
    if (!path)
        return rc;
    char *body = NULL;
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddNumberToObject(o, "amount_cents", (double)cents) &&
        cJSON_AddStringToObject(o, "date", date) && cJSON_AddStringToObject(o, "reference", ref))
        body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!body) {
        free(path);
        return local_error("out of memory");
    }
    struct api_request rq = {.method = "POST",
                             .path = path,
                             .body = body,
                             .body_len = strlen(body),
                             .content_type = "application/json"};
    rc = exchange_and_print(c, &rq, NULL);
    cJSON_free(body);
    free(path);
    return rc;
}

enum { SM_MONTH };
const struct opt_def statement_opts[] = {
    {"month", 0, "YYYY-MM", "required: the month of the invoice dates"},
    {NULL, 0, NULL, NULL},
};

/* The rows of one array member of a statement, in the chosen format (not
 * json): ndjson as received, csv and table through the columns of l. */
static int statement_rows(const struct api_response *res, const cJSON *doc, const char *member,
                          enum output_format f, enum audit_list l)
{
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, member);
    int n = cJSON_GetArraySize(rows), i = 0;
    struct jsonspan *sp = NULL;
    const cJSON *it;

    if (f == OUT_NDJSON) {
        sp = calloc(n > 0 ? (size_t)n : 1, sizeof *sp);
        if (!sp)
            return local_error("out of memory");
        if (jsonspan_array_elements(res->body, res->len, member, sp, n) != n) {
            free(sp);
            sp = NULL;
        }
    }
    int rc = EXIT_OK;
    cJSON_ArrayForEach(it, rows)
    {
        if (f == OUT_NDJSON) {
            /* an element on several lines is re-encoded on one */
            bool raw = sp && !memchr(sp[i].p, '\n', sp[i].n) && !memchr(sp[i].p, '\r', sp[i].n);
            rc = emit_json_value(it, raw ? sp[i].p : NULL, raw ? sp[i].n : 0);
            if (rc != EXIT_OK)
                break;
            fputc('\n', stdout);
        } else {
            output_audit_row(stdout, f, l, it);
        }
        i++;
    }
    free(sp);
    return rc;
}

int cmd_statement(struct ctx *c)
{
    const char *month = c->opt[SM_MONTH];
    int rc;

    if (!month)
        return usage_error("statement: missing --month YYYY-MM");
    if ((rc = check_month(month)) != EXIT_OK)
        return rc;
    struct query q = {0};
    buf_add(&q.b, "/v1/statements", strlen("/v1/statements"));
    query_add(&q, "month", month);
    if (q.b.failed) {
        free(q.b.p);
        return local_error("out of memory");
    }
    struct api_request rq = {.method = "GET", .path = q.b.p};
    struct api_response res;
    cJSON *doc = NULL;
    api_exchange(&c->api, &rq, &res);
    rc = receive(c, &res, &doc);
    free(q.b.p);

    /* an OCMW's statement has lines; the fund's has providers and ocmws */
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(doc, "lines");
    const cJSON *prov = cJSON_GetObjectItemCaseSensitive(doc, "providers");
    const cJSON *ocmws = cJSON_GetObjectItemCaseSensitive(doc, "ocmws");
    bool ocmw = cJSON_IsArray(lines);
    if (rc == EXIT_OK && !ocmw && !(cJSON_IsArray(prov) && cJSON_IsArray(ocmws))) {
        fprintf(stderr,
                "medaid: %ld answer is not a statement (no \"lines\", or no "
                "\"providers\" and \"ocmws\")\n",
                res.status);
        rc = EXIT_SERVER;
    }
    if (rc == EXIT_OK && c->format == OUT_JSON) {
        output_raw(stdout, res.body, res.len);
    } else if (rc == EXIT_OK) {
        enum audit_list l = ocmw ? STATEMENT_OCMW : STATEMENT_FUND;
        if (c->format != OUT_NDJSON)
            output_audit_header(stdout, c->format, l);
        rc = statement_rows(&res, doc, ocmw ? "lines" : "providers", c->format, l);
        if (rc == EXIT_OK && !ocmw)
            rc = statement_rows(&res, doc, "ocmws", c->format, l);
        if (rc == EXIT_OK && c->format == OUT_TABLE) {
            /* the totals under the rows; csv and ndjson hold the rows only */
            cJSON *t = cJSON_CreateObject();
            cJSON *tot = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(doc, "totals"), 1);
            if (t && tot && cJSON_AddItemToObject(t, "totals", tot)) {
                fputc('\n', stdout);
                output_generic_table(stdout, t);
            } else {
                cJSON_Delete(tot);
            }
            cJSON_Delete(t);
        }
        if (rc == EXIT_OK && ferror(stdout))
            rc = output_error();
    }
    cJSON_Delete(doc);
    api_response_free(&res);
    return rc;
}
