/*
 * agreements: group commit of coverage answers.
 *
 * agreements_record appends to the worker's pending list and activates a
 * flush event; libevent runs it after the callbacks already active in this
 * turn, so everything answered in the same turn goes out in one
 * Q_AGREEMENT_INSERT_MANY (at most FLUSH_MAX rows per statement).
 * The other statements of agreements, and the coverage lookup, are below.
 */
#include "db/agreements.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "db/pgarray.h"
#include "db/store.h"
#include "db/tariffs.h"

#define FLUSH_MAX 1000

struct pending {
    TAILQ_ENTRY(pending) link;
    struct agreement_rec rec;
    agreement_cb cb;
    void *arg;
};
TAILQ_HEAD(pending_list, pending);

struct flush {
    size_t n;
    struct pending **items;
};

struct agreement_queue {
    struct pg_pool *pool;
    struct event *ev_flush;
    struct pending_list pending;
    size_t n_pending;
    bool scheduled; /* ev_flush is active */
};

static void pending_free(struct pending *p)
{
    free(p->rec.question);
    free(p->rec.answer);
    free(p);
}

static void flush_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct flush *f = arg;
    bool ok = o == PG_OK && (size_t)PQntuples(res) == f->n;
    if (ok)
        metrics_add(MC_AUDIT_CONSULTATIONS, f->n);
    if (o == PG_OK && !ok)
        log_error("agreements: %zu recorded for %zu answers", (size_t)PQntuples(res), f->n);
    o = store_outcome(&Q_AGREEMENT_INSERT_MANY, o, res);
    int answer = ok ? store_col(res, "answer") : -1;
    for (size_t i = 0; i < f->n; i++) {
        struct pending *p = f->items[i];
        if (ok) {
            /* rows come ordered by ordinal: row i is item i */
            p->cb(p->arg, PG_OK, PQgetvalue(res, (int)i, answer));
        } else {
            p->cb(p->arg, o == PG_OK ? PG_ERROR : o, NULL);
        }
        pending_free(p);
    }
    free(f->items);
    free(f);
}

static void flush_some(struct agreement_queue *q)
{
    size_t n = q->n_pending < FLUSH_MAX ? q->n_pending : FLUSH_MAX;
    metrics_batch(MB_AGREEMENTS, n);
    struct flush *f = xcalloc(1, sizeof *f);
    f->items = xcalloc(n, sizeof *f->items);
    struct pgarray a[12];
    for (int k = 0; k < 12; k++)
        pgarray_init(&a[k]);
    for (size_t i = 0; i < n; i++) {
        struct pending *p = TAILQ_FIRST(&q->pending);
        TAILQ_REMOVE(&q->pending, p, link);
        q->n_pending--;
        f->items[f->n++] = p;
        const struct agreement_rec *r = &p->rec;
        char pid[24], date[PDATE_STRLEN + 1], ver[16];
        snprintf(pid, sizeof pid, "%lld", (long long)r->provider_id);
        date_format(r->service_date, date);
        snprintf(ver, sizeof ver, "%d", r->decision_version);
        pgarray_add(&a[0], pid);
        pgarray_add(&a[1], r->provider_org);
        pgarray_add(&a[2], r->ssin);
        pgarray_add(&a[3], date);
        pgarray_add(&a[4], care_type_name(r->care_type));
        pgarray_add(&a[5], r->covered ? "t" : "f");
        pgarray_add(&a[6], r->reason);
        pgarray_add(&a[7], r->decision_id[0] ? r->decision_id : NULL);
        pgarray_add(&a[8], r->decision_id[0] ? ver : NULL);
        pgarray_add(&a[9], r->question);
        pgarray_add(&a[10], r->answer);
        pgarray_add(&a[11], r->known_at[0] ? r->known_at : NULL);
    }
    const char *params[12];
    for (int k = 0; k < 12; k++)
        params[k] = pgarray_finish(&a[k]);
    pg_submit(q->pool, &Q_AGREEMENT_INSERT_MANY, params, flush_cb, f);
    for (int k = 0; k < 12; k++)
        pgarray_free(&a[k]);
}

static void flush_event_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct agreement_queue *q = arg;
    q->scheduled = false;
    while (q->n_pending > 0)
        flush_some(q);
}

struct agreement_queue *agreements_new(struct event_base *base, struct pg_pool *pool)
{
    struct agreement_queue *q = xcalloc(1, sizeof *q);
    q->pool = pool;
    TAILQ_INIT(&q->pending);
    q->ev_flush = event_new(base, -1, 0, flush_event_cb, q);
    if (!q->ev_flush) {
        free(q);
        return NULL;
    }
    return q;
}

void agreements_free(struct agreement_queue *q)
{
    if (!q)
        return;
    struct pending *p;
    while ((p = TAILQ_FIRST(&q->pending))) {
        TAILQ_REMOVE(&q->pending, p, link);
        pending_free(p);
    }
    event_free(q->ev_flush);
    free(q);
}

void db_agreement_record(struct db *db, struct agreement_rec *rec, agreement_cb cb, void *arg)
{
    struct agreement_queue *q = db->agreements;
    struct pending *p = xcalloc(1, sizeof *p);
    p->rec = *rec;
    p->cb = cb;
    p->arg = arg;
    TAILQ_INSERT_TAIL(&q->pending, p, link);
    q->n_pending++;
    if (!q->scheduled) {
        q->scheduled = true;
        event_active(q->ev_flush, EV_READ, 0);
    }
}

/* ---- one capped agreement -------------------------------------------------------- */

struct capped_call {
    agreement_cb cb;
    void *arg;
};

static void capped_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct capped_call call = *(struct capped_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_AGREEMENT_INSERT_CAP, o, res), NULL);
        return;
    }
    /* no row: others took from the cap meanwhile */
    call.cb(call.arg, PG_OK,
            PQntuples(res) == 1 ? PQgetvalue(res, 0, store_col(res, "answer")) : NULL);
}

void db_agreement_record_capped(struct db *db, struct agreement_rec *rec, int64_t granted,
                                int64_t cap, const char *cap_text, agreement_cb cb, void *arg)
{
    struct capped_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    char pid[24], date[PDATE_STRLEN + 1], ver[16], grant[24], limit[24];
    snprintf(pid, sizeof pid, "%lld", (long long)rec->provider_id);
    date_format(rec->service_date, date);
    snprintf(ver, sizeof ver, "%d", rec->decision_version);
    snprintf(grant, sizeof grant, "%lld", (long long)granted);
    snprintf(limit, sizeof limit, "%lld", (long long)cap);
    const char *params[] = {pid,
                            rec->provider_org,
                            rec->ssin,
                            date,
                            care_type_name(rec->care_type),
                            rec->covered ? "t" : "f",
                            rec->reason,
                            rec->decision_id,
                            ver,
                            rec->question,
                            rec->answer,
                            grant,
                            limit,
                            rec->known_at,
                            cap_text};
    pg_submit(db->pool, &Q_AGREEMENT_INSERT_CAP, params, capped_cb, call);
    free(rec->question);
    free(rec->answer);
    rec->question = rec->answer = NULL;
}

/* ---- reading and voiding ------------------------------------------------------------- */

struct get_call {
    agreement_get_cb cb;
    void *arg;
};

static void get_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct get_call call = *(struct get_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_AGREEMENT_GET, o, res), NULL);
        return;
    }
    if (PQntuples(res) != 1) {
        call.cb(call.arg, PG_OK, NULL);
        return;
    }
    struct agreement_view a = {
        .answer = PQgetvalue(res, 0, store_col(res, "answer")),
        .provider_org = PQgetvalue(res, 0, store_col(res, "provider_org")),
        .ssin = PQgetvalue(res, 0, store_col(res, "ssin")),
        .voided_at = store_val(res, 0, store_col(res, "voided_at")),
    };
    call.cb(call.arg, PG_OK, &a);
}

void db_agreement_get(struct db *db, const char *number, agreement_get_cb cb, void *arg)
{
    struct get_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    const char *params[] = {number};
    pg_submit(db->pool, &Q_AGREEMENT_GET, params, get_cb, call);
}

struct void_call {
    agreement_void_cb cb;
    void *arg;
};

static void void_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct void_call call = *(struct void_call *)arg;
    free(arg);
    if (o == PG_ERROR && strcmp(pg_sqlstate(res), "23505") == 0) {
        call.cb(call.arg, PG_OK, AV_ALREADY, NULL, NULL);
        return;
    }
    if (o == PG_ERROR && strcmp(pg_sqlstate(res), "MDB01") == 0) {
        call.cb(call.arg, PG_OK, AV_BILLED, NULL, NULL); /* billed meanwhile */
        return;
    }
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_AGREEMENT_VOID, o, res), AV_NOT_FOUND, NULL, NULL);
        return;
    }
    if (PQntuples(res) != 1) {
        call.cb(call.arg, PG_OK, AV_NOT_FOUND, NULL, NULL);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, store_col(res, "billed")), "t") == 0) {
        call.cb(call.arg, PG_OK, AV_BILLED, NULL, NULL);
        return;
    }
    call.cb(call.arg, PG_OK, AV_VOIDED, PQgetvalue(res, 0, store_col(res, "number")),
            PQgetvalue(res, 0, store_col(res, "voided_at")));
}

void db_agreement_void(struct db *db, const char *number, const char *provider_org,
                       int64_t principal, agreement_void_cb cb, void *arg)
{
    struct void_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    char pid[24];
    snprintf(pid, sizeof pid, "%lld", (long long)principal);
    const char *params[] = {number, provider_org, pid};
    pg_submit(db->pool, &Q_AGREEMENT_VOID, params, void_cb, call);
}

/* ---- the coverage lookup -------------------------------------------------------------- */

void coverage_facts_free(struct coverage_facts *f)
{
    free(f->decisions);
    tariff_set_free(&f->tariffs);
    memset(f, 0, sizeof *f);
}

struct lookup_call {
    struct coverage_facts *out;
    db_done_cb cb;
    void *arg;
};

static void lookup_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct lookup_call call = *(struct lookup_call *)arg;
    free(arg);
    struct coverage_facts *f = call.out;
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_COVERAGE_LOOKUP, o, res));
        return;
    }
    if (!decisions_known_from_rows(res, &f->decisions, &f->n)) {
        call.cb(call.arg, PG_BAD_DATA);
        return;
    }
    if (PQntuples(res) > 0) {
        const char *csv = store_val(res, 0, store_col(res, "tariffs"));
        if (csv && !db_tariffs_from_csv(csv, &f->tariffs)) {
            log_error("db: stored tariffs do not parse");
            call.cb(call.arg, PG_BAD_DATA);
            return;
        }
        f->used_cents = store_int(res, 0, store_col(res, "used_cents"));
        snprintf(f->known_at, sizeof f->known_at, "%s",
                 PQgetvalue(res, 0, store_col(res, "known_at")));
    }
    call.cb(call.arg, PG_OK);
}

void db_coverage_lookup(struct db *db, const struct coverage_question *q,
                        struct coverage_facts *out, db_done_cb cb, void *arg)
{
    coverage_facts_free(out);
    struct lookup_call *call = xmalloc(sizeof *call);
    call->out = out;
    call->cb = cb;
    call->arg = arg;
    char date[PDATE_STRLEN + 1];
    date_format(q->service_date, date);
    struct pgarray codes;
    pgarray_init(&codes);
    for (int i = 0; i < q->n_items; i++)
        pgarray_add(&codes, q->items[i].code);
    const char *params[] = {q->ssin, date, db->cfg->timezone, care_type_name(q->care_type),
                            pgarray_finish(&codes)};
    pg_submit(db->pool, &Q_COVERAGE_LOOKUP, params, lookup_cb, call);
    pgarray_free(&codes);
}
