/*
 * agreements: group commit of coverage answers.
 *
 * agreements_record appends to the worker's pending list and activates a
 * flush event; libevent runs it after the callbacks already active in this
 * turn, so everything answered in the same turn goes out in one
 * Q_AGREEMENT_INSERT_MANY (at most FLUSH_MAX rows per statement).
 */
#include "db/agreements.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "base/log.h"
#include "db/pgarray.h"
#include "db/queries.h"

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
    if (o == PG_OK && !ok)
        log_error("agreements: %zu recorded for %zu answers", (size_t)PQntuples(res), f->n);
    for (size_t i = 0; i < f->n; i++) {
        struct pending *p = f->items[i];
        if (ok) {
            /* rows come ordered by ordinal: row i is item i */
            p->cb(p->arg, PG_OK, PQgetvalue(res, (int)i, 1), res);
        } else {
            p->cb(p->arg, o == PG_OK ? PG_ERROR : o, NULL, res);
        }
        pending_free(p);
    }
    free(f->items);
    free(f);
}

static void fail_all(struct flush *f, enum pg_outcome o)
{
    for (size_t i = 0; i < f->n; i++) {
        f->items[i]->cb(f->items[i]->arg, o, NULL, NULL);
        pending_free(f->items[i]);
    }
    free(f->items);
    free(f);
}

static void flush_some(struct agreement_queue *q)
{
    size_t n = q->n_pending < FLUSH_MAX ? q->n_pending : FLUSH_MAX;
    struct flush *f = calloc(1, sizeof *f);
    struct pending **items = calloc(n, sizeof *items);
    if (!f || !items) {
        free(f);
        free(items);
        log_error("agreements: out of memory; %zu answers not recorded", n);
        for (size_t i = 0; i < n; i++) {
            struct pending *p = TAILQ_FIRST(&q->pending);
            TAILQ_REMOVE(&q->pending, p, link);
            q->n_pending--;
            p->cb(p->arg, PG_UNAVAILABLE, NULL, NULL);
            pending_free(p);
        }
        return;
    }
    f->items = items;
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
    bool ok = true;
    for (int k = 0; k < 12; k++)
        ok = (params[k] = pgarray_finish(&a[k])) != NULL && ok;
    if (ok)
        pg_submit(q->pool, &Q_AGREEMENT_INSERT_MANY, params, flush_cb, f);
    for (int k = 0; k < 12; k++)
        pgarray_free(&a[k]);
    if (!ok) {
        log_error("agreements: out of memory; %zu answers not recorded", f->n);
        fail_all(f, PG_UNAVAILABLE);
    }
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
    struct agreement_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
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

void agreements_record(struct agreement_queue *q, struct agreement_rec *rec, agreement_cb cb,
                       void *arg)
{
    struct pending *p = calloc(1, sizeof *p);
    if (!p) {
        free(rec->question);
        free(rec->answer);
        cb(arg, PG_UNAVAILABLE, NULL, NULL);
        return;
    }
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
