/*
 * invoices: invoices, payments and statements (db/invoices.h).
 */
#include "db/invoices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/log.h"
#include "base/mem.h"
#include "db/pgarray.h"
#include "db/store.h"

/* a callback of any of the types above (cast back by its completion) */
typedef void (*anyfn)(void);

struct call {
    anyfn cb;
    void *arg;
};

static struct call *call_new(anyfn cb, void *arg)
{
    struct call *c = xmalloc(sizeof *c);
    c->cb = cb;
    c->arg = arg;
    return c;
}

/* ---- facts ---------------------------------------------------------------------------- */

static void facts_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct call c = *(struct call *)arg;
    free(arg);
    invoice_facts_cb cb = (invoice_facts_cb)c.cb;
    if (o != PG_OK) {
        cb(c.arg, store_outcome(&Q_INVOICE_FACTS, o, res), NULL, 0);
        return;
    }
    int rows = PQntuples(res);
    struct agreement_facts *f = xcalloc((size_t)rows + 1, sizeof *f);
    size_t n = 0;
    int c_num = store_col(res, "number"), c_cov = store_col(res, "covered"),
        c_date = store_col(res, "service_date"), c_void = store_col(res, "voided"),
        c_code = store_col(res, "code"), c_q = store_col(res, "quantity"),
        c_st = store_col(res, "state_cents"), c_oc = store_col(res, "ocmw_cents"),
        c_b = store_col(res, "billed");
    for (int i = 0; i < rows; i++) {
        const char *num = PQgetvalue(res, i, c_num);
        if (n == 0 || strcmp(f[n - 1].number, num) != 0) {
            struct agreement_facts *a = &f[n++];
            snprintf(a->number, sizeof a->number, "%s", num);
            a->found = true;
            a->covered = strcmp(PQgetvalue(res, i, c_cov), "t") == 0;
            a->voided = strcmp(PQgetvalue(res, i, c_void), "t") == 0;
            const char *d = PQgetvalue(res, i, c_date);
            if (!date_parse(d, strlen(d), &a->service_date)) {
                log_error("db: stored agreement service date does not parse");
                free(f);
                cb(c.arg, PG_BAD_DATA, NULL, 0);
                return;
            }
        }
        struct agreement_facts *a = &f[n - 1];
        if (store_val(res, i, c_code) == NULL || a->n_items >= INVOICE_MAX_ITEMS)
            continue;
        struct agreed_item *it = &a->items[a->n_items++];
        snprintf(it->code, sizeof it->code, "%s", PQgetvalue(res, i, c_code));
        it->quantity = store_int(res, i, c_q);
        it->state_cents = store_int(res, i, c_st);
        it->ocmw_cents = store_int(res, i, c_oc);
        it->billed = store_int(res, i, c_b);
    }
    cb(c.arg, PG_OK, f, n);
}

void db_invoice_facts(struct db *db, const char *provider_org, const struct invoice_input *in,
                      invoice_facts_cb cb, void *arg)
{
    struct pgarray nums;
    pgarray_init(&nums);
    for (int i = 0; i < in->n_lines; i++)
        pgarray_add(&nums, in->lines[i].agreement);
    const char *params[] = {provider_org, pgarray_finish(&nums)};
    pg_submit(db->pool, &Q_INVOICE_FACTS, params, facts_cb, call_new((anyfn)cb, arg));
    pgarray_free(&nums);
}

/* ---- the write ---------------------------------------------------------------------- */

static void record_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct call c = *(struct call *)arg;
    free(arg);
    invoice_write_cb cb = (invoice_write_cb)c.cb;
    if (o == PG_RETRY) {
        cb(c.arg, PG_OK, IW_CHANGED, NULL, NULL);
        return;
    }
    if (o == PG_ERROR && strcmp(pg_sqlstate(res), "23505") == 0) {
        cb(c.arg, PG_OK, IW_KEY_TAKEN, NULL, NULL);
        return;
    }
    if (o != PG_OK || PQntuples(res) != 1) {
        cb(c.arg, o == PG_OK ? PG_ERROR : store_outcome(&Q_INVOICE_RECORD, o, res), IW_RECORDED,
           NULL, NULL);
        return;
    }
    cb(c.arg, PG_OK, IW_RECORDED, PQgetvalue(res, 0, store_col(res, "id")),
       PQgetvalue(res, 0, store_col(res, "answer")));
}

void db_invoice_record(struct db *db, const struct invoice_write *w, invoice_write_cb cb, void *arg)
{
    cJSON *lines = cJSON_CreateArray();
    for (int i = 0; i < w->in->n_lines; i++) {
        const struct invoice_line *l = &w->in->lines[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(lines, o);
        cJSON_AddStringToObject(o, "agreement", l->agreement);
        cJSON_AddStringToObject(o, "code", l->code);
        cJSON_AddNumberToObject(o, "quantity", (double)l->quantity);
        cJSON_AddNumberToObject(o, "state_cents", (double)l->state_cents);
        cJSON_AddNumberToObject(o, "ocmw_cents", (double)l->ocmw_cents);
        cJSON_AddNumberToObject(o, "patient_cents", (double)l->patient_cents);
        cJSON_AddBoolToObject(o, "accepted", w->out[i] == IR_NONE);
        if (w->out[i] == IR_NONE)
            cJSON_AddNullToObject(o, "reason");
        else
            cJSON_AddStringToObject(o, "reason", invoice_reject_code(w->out[i]));
    }
    cJSON *seen = cJSON_CreateArray();
    for (size_t i = 0; i < w->n_facts; i++) {
        const struct agreement_facts *a = &w->facts[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(seen, o);
        cJSON_AddStringToObject(o, "agreement", a->number);
        cJSON_AddBoolToObject(o, "voided", a->voided);
        for (int k = 0; k < a->n_items; k++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(seen, e);
            cJSON_AddStringToObject(e, "agreement", a->number);
            cJSON_AddBoolToObject(e, "voided", a->voided);
            cJSON_AddStringToObject(e, "code", a->items[k].code);
            cJSON_AddNumberToObject(e, "billed", (double)a->items[k].billed);
        }
    }
    /* integers below 2^53: exact as numbers */
    char *lj = cJSON_PrintUnformatted(lines), *sj = cJSON_PrintUnformatted(seen);
    cJSON_Delete(lines);
    cJSON_Delete(seen);
    ASSERT(lj && sj);
    char pid[24], date[PDATE_STRLEN + 1];
    snprintf(pid, sizeof pid, "%lld", (long long)w->provider_id);
    date_format(w->invoice_date, date);
    const char *params[] = {pid,       w->provider_org,
                            w->key,    w->hash,
                            date,      w->in->has_reference ? w->in->reference : NULL,
                            w->answer, invoice_status(w->out, w->in->n_lines),
                            lj,        sj};
    pg_submit(db->pool, &Q_INVOICE_RECORD, params, record_cb, call_new((anyfn)cb, arg));
    free(lj);
    free(sj);
}

/* ---- reads ------------------------------------------------------------------------- */

static void key_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct call c = *(struct call *)arg;
    free(arg);
    invoice_key_cb cb = (invoice_key_cb)c.cb;
    if (o != PG_OK) {
        cb(c.arg, store_outcome(&Q_INVOICE_BY_KEY, o, res), NULL, NULL);
        return;
    }
    if (PQntuples(res) != 1) {
        cb(c.arg, PG_OK, NULL, NULL);
        return;
    }
    cb(c.arg, PG_OK, PQgetvalue(res, 0, store_col(res, "request_hash")),
       PQgetvalue(res, 0, store_col(res, "answer")));
}

void db_invoice_by_key(struct db *db, const char *provider_org, const char *key, invoice_key_cb cb,
                       void *arg)
{
    const char *params[] = {provider_org, key};
    pg_submit(db->pool, &Q_INVOICE_BY_KEY, params, key_cb, call_new((anyfn)cb, arg));
}

static void get_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct call c = *(struct call *)arg;
    free(arg);
    invoice_doc_cb cb = (invoice_doc_cb)c.cb;
    if (o != PG_OK) {
        cb(c.arg, store_outcome(&Q_INVOICE_GET, o, res), NULL, NULL);
        return;
    }
    if (PQntuples(res) != 1) {
        cb(c.arg, PG_OK, NULL, NULL);
        return;
    }
    cb(c.arg, PG_OK, PQgetvalue(res, 0, store_col(res, "provider_org")),
       PQgetvalue(res, 0, store_col(res, "doc")));
}

void db_invoice_get(struct db *db, const char *id, invoice_doc_cb cb, void *arg)
{
    const char *params[] = {id};
    pg_submit(db->pool, &Q_INVOICE_GET, params, get_cb, call_new((anyfn)cb, arg));
}

static void list_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct call c = *(struct call *)arg;
    free(arg);
    invoice_rows_cb cb = (invoice_rows_cb)c.cb;
    if (o != PG_OK) {
        cb(c.arg, store_outcome(&Q_INVOICE_LIST, o, res), NULL, 0);
        return;
    }
    int n = PQntuples(res);
    struct invoice_row *rows = xcalloc((size_t)n + 1, sizeof *rows);
    int ci = store_col(res, "id"), cj = store_col(res, "item"), cc = store_col(res, "csv");
    for (int i = 0; i < n; i++) {
        rows[i].id = PQgetvalue(res, i, ci);
        rows[i].item = PQgetvalue(res, i, cj);
        rows[i].csv = PQgetvalue(res, i, cc);
    }
    cb(c.arg, PG_OK, rows, (size_t)n);
    free(rows);
}

void db_invoice_list(struct db *db, const struct invoice_filter *f, const char *after, int limit,
                     invoice_rows_cb cb, void *arg)
{
    char month[PDATE_STRLEN + 1], lim[16];
    if (f->has_month)
        date_format(f->month, month);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {f->provider, f->ocmw, f->has_month ? month : NULL,
                            f->status,   after,   lim};
    pg_submit(db->pool, &Q_INVOICE_LIST, params, list_cb, call_new((anyfn)cb, arg));
}

/* ---- payments and statements -------------------------------------------------------- */

static void payment_done(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct call c = *(struct call *)arg;
    free(arg);
    payment_cb cb = (payment_cb)c.cb;
    if (o == PG_ERROR && strcmp(pg_sqlstate(res), "MDP01") == 0) {
        cb(c.arg, PG_OK, PAY_OVER, NULL);
        return;
    }
    if (o == PG_ERROR && strcmp(pg_sqlstate(res), "23505") == 0) {
        cb(c.arg, PG_OK, PAY_DUPLICATE, NULL);
        return;
    }
    if (o != PG_OK) {
        cb(c.arg, store_outcome(&Q_PAYMENT_INSERT, o, res), PAY_NOT_FOUND, NULL);
        return;
    }
    if (PQntuples(res) != 1) {
        cb(c.arg, PG_OK, PAY_NOT_FOUND, NULL);
        return;
    }
    cb(c.arg, PG_OK, PAY_RECORDED, PQgetvalue(res, 0, store_col(res, "doc")));
}

void db_payment_add(struct db *db, const char *invoice, const struct payment_input *p,
                    int64_t principal, payment_cb cb, void *arg)
{
    char amount[24], date[PDATE_STRLEN + 1], pid[24];
    snprintf(amount, sizeof amount, "%lld", (long long)p->amount_cents);
    date_format(p->date, date);
    snprintf(pid, sizeof pid, "%lld", (long long)principal);
    const char *params[] = {invoice, amount, date, p->reference, pid};
    pg_submit(db->pool, &Q_PAYMENT_INSERT, params, payment_done, call_new((anyfn)cb, arg));
}

static void statement_done(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct call c = *(struct call *)arg;
    free(arg);
    statement_cb cb = (statement_cb)c.cb;
    if (o != PG_OK || PQntuples(res) != 1) {
        cb(c.arg, o == PG_OK ? PG_ERROR : store_outcome(&Q_STATEMENT_FUND, o, res), NULL);
        return;
    }
    cb(c.arg, PG_OK, PQgetvalue(res, 0, store_col(res, "doc")));
}

void db_statement(struct db *db, pdate month, const char *ocmw, statement_cb cb, void *arg)
{
    char m[PDATE_STRLEN + 1];
    date_format(month, m);
    if (ocmw) {
        const char *params[] = {m, ocmw};
        pg_submit(db->pool, &Q_STATEMENT_OCMW, params, statement_done, call_new((anyfn)cb, arg));
    } else {
        const char *params[] = {m};
        pg_submit(db->pool, &Q_STATEMENT_FUND, params, statement_done, call_new((anyfn)cb, arg));
    }
}
