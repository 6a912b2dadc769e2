/*
 * audit: SQL, parameters and rows of the auditor's reads.
 */
#include "db/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "db/pgarray.h"
#include "db/store.h"
#include "db/tariffs.h"

/* ---- chains ------------------------------------------------------------------- */

struct heads_call {
    db_audit_heads_cb cb;
    void *arg;
};

static void heads_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct heads_call call = *(struct heads_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_AUDIT_HEAD, o, res), NULL, 0);
        return;
    }
    int n = PQntuples(res);
    int chain = store_col(res, "chain"), cseq = store_col(res, "last_chain_seq"),
        seq = store_col(res, "last_seq"), hash = store_col(res, "last_hash");
    struct audit_head *h = xcalloc(n > 0 ? (size_t)n : 1, sizeof *h);
    for (int i = 0; i < n; i++) {
        h[i].chain = (int)store_int(res, i, chain);
        h[i].chain_seq = store_int(res, i, cseq);
        h[i].seq = store_int(res, i, seq);
        h[i].hash = PQgetvalue(res, i, hash);
    }
    call.cb(call.arg, PG_OK, h, (size_t)n);
    free(h);
}

void db_audit_heads(struct db *db, db_audit_heads_cb cb, void *arg)
{
    struct heads_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    pg_submit(db->pool, &Q_AUDIT_HEAD, NULL, heads_cb, call);
}

struct page_call {
    db_audit_records_cb cb;
    void *arg;
};

static void page_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct page_call call = *(struct page_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_AUDIT_PAGE, o, res), NULL, 0);
        return;
    }
    int n = PQntuples(res);
    int seq = store_col(res, "seq"), chain = store_col(res, "chain"),
        cseq = store_col(res, "chain_seq"), canon = store_col(res, "canonical"),
        prev = store_col(res, "prev_hash"), hash = store_col(res, "hash");
    struct audit_record *r = xcalloc(n > 0 ? (size_t)n : 1, sizeof *r);
    for (int i = 0; i < n; i++) {
        r[i].seq = store_int(res, i, seq);
        r[i].chain = (int)store_int(res, i, chain);
        r[i].chain_seq = store_int(res, i, cseq);
        r[i].canonical = PQgetvalue(res, i, canon);
        r[i].canonical_len = (size_t)PQgetlength(res, i, canon);
        r[i].prev_hash = PQgetvalue(res, i, prev);
        r[i].hash = PQgetvalue(res, i, hash);
    }
    call.cb(call.arg, PG_OK, r, (size_t)n);
    free(r);
}

void db_audit_page(struct db *db, int chain, int64_t chain_seq, int limit, db_audit_records_cb cb,
                   void *arg)
{
    struct page_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    char c[16], after[24], lim[16];
    snprintf(c, sizeof c, "%d", chain);
    snprintf(after, sizeof after, "%lld", (long long)chain_seq);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {c, after, lim};
    pg_submit(db->pool, &Q_AUDIT_PAGE, params, page_cb, call);
}

/* ---- lists -------------------------------------------------------------------------- */

struct items_call {
    const struct pg_stmt *stmt;
    db_audit_items_cb cb;
    void *arg;
};

static void items_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct items_call call = *(struct items_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(call.stmt, o, res), NULL, 0);
        return;
    }
    int n = PQntuples(res);
    int item = store_col(res, "item"), cur[3];
    int ncur = 1;
    if (call.stmt == &Q_AUDIT_CONSULTATIONS) {
        cur[0] = store_col(res, "number");
    } else if (call.stmt == &Q_AUDIT_READS_LIST) {
        cur[0] = store_col(res, "seq");
    } else {
        cur[0] = store_col(res, "cursor_at");
        cur[1] = store_col(res, "decision_id");
        cur[2] = store_col(res, "version");
        ncur = 3;
    }
    struct audit_item *it = xcalloc(n > 0 ? (size_t)n : 1, sizeof *it);
    for (int i = 0; i < n; i++) {
        it[i].json = PQgetvalue(res, i, item);
        it[i].len = (size_t)PQgetlength(res, i, item);
        for (int k = 0; k < ncur; k++)
            it[i].cursor[k] = PQgetvalue(res, i, cur[k]);
    }
    call.cb(call.arg, PG_OK, it, (size_t)n);
    free(it);
}

static struct items_call *items_call_new(const struct pg_stmt *stmt, db_audit_items_cb cb,
                                         void *arg)
{
    struct items_call *call = xmalloc(sizeof *call);
    call->stmt = stmt;
    call->cb = cb;
    call->arg = arg;
    return call;
}

void db_audit_consultations(struct db *db, const struct consultation_filter *f, const char *after,
                            int limit, db_audit_items_cb cb, void *arg)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {
        f->ssin,          f->provider,    f->ocmw,    f->service_from, f->service_to,
        f->recorded_from, f->recorded_to, f->outcome, after,           lim};
    pg_submit(db->pool, &Q_AUDIT_CONSULTATIONS, params, items_cb,
              items_call_new(&Q_AUDIT_CONSULTATIONS, cb, arg));
}

void db_audit_decisions(struct db *db, const struct decision_filter *f, const char *const *after,
                        int limit, db_audit_items_cb cb, void *arg)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {f->ocmw,
                            f->ssin,
                            f->changed_since,
                            f->status,
                            after ? after[0] : NULL,
                            after ? after[1] : NULL,
                            after ? after[2] : NULL,
                            lim};
    pg_submit(db->pool, &Q_AUDIT_DECISIONS, params, items_cb,
              items_call_new(&Q_AUDIT_DECISIONS, cb, arg));
}

void db_audit_reads(struct db *db, const char *ssin, const char *after, int limit,
                    db_audit_items_cb cb, void *arg)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {ssin, after, lim};
    pg_submit(db->pool, &Q_AUDIT_READS_LIST, params, items_cb,
              items_call_new(&Q_AUDIT_READS_LIST, cb, arg));
}

/* ---- as of ------------------------------------------------------------------------------- */

void as_of_facts_free(struct as_of_facts *f)
{
    free(f->decisions);
    tariff_set_free(&f->tariffs);
    memset(f, 0, sizeof *f);
}

struct as_of_call {
    struct as_of_facts *out;
    db_done_cb cb;
    void *arg;
};

static void as_of_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct as_of_call call = *(struct as_of_call *)arg;
    free(arg);
    struct as_of_facts *f = call.out;
    if (o == PG_OK && PQntuples(res) < 1)
        o = PG_ERROR;
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_AUDIT_AS_OF, o, res));
        return;
    }
    int today = store_col(res, "today");
    if (!decisions_known_from_rows(res, &f->decisions, &f->n) ||
        !date_parse(PQgetvalue(res, 0, today), (size_t)PQgetlength(res, 0, today), &f->today)) {
        as_of_facts_free(f);
        call.cb(call.arg, PG_BAD_DATA);
        return;
    }
    snprintf(f->known_at, sizeof f->known_at, "%s", PQgetvalue(res, 0, store_col(res, "known_at")));
    const char *csv = store_val(res, 0, store_col(res, "tariffs"));
    if (csv && !db_tariffs_from_csv(csv, &f->tariffs)) {
        log_error("db: stored tariffs do not parse");
        as_of_facts_free(f);
        call.cb(call.arg, PG_BAD_DATA);
        return;
    }
    f->used_cents = store_int(res, 0, store_col(res, "used_cents"));
    f->tariff_version = store_int(res, 0, store_col(res, "tariff_version"));
    const char *kinds = store_val(res, 0, store_col(res, "provider_kinds"));
    snprintf(f->provider_kinds, sizeof f->provider_kinds, "%s", kinds ? kinds : "");
    call.cb(call.arg, PG_OK);
}

void db_audit_as_of(struct db *db, const struct coverage_question *q, const char *known_at,
                    const char *provider, struct as_of_facts *out, db_done_cb cb, void *arg)
{
    struct as_of_call *call = xmalloc(sizeof *call);
    call->out = out;
    call->cb = cb;
    call->arg = arg;
    char date[PDATE_STRLEN + 1];
    date_format(q->service_date, date);
    struct pgarray codes;
    pgarray_init(&codes);
    for (int i = 0; i < q->n_items; i++)
        pgarray_add(&codes, q->items[i].code);
    const char *params[] = {
        q->ssin,  date,    db->cfg->timezone, care_type_name(q->care_type), pgarray_finish(&codes),
        known_at, provider};
    pg_submit(db->pool, &Q_AUDIT_AS_OF, params, as_of_cb, call);
    pgarray_free(&codes);
}
