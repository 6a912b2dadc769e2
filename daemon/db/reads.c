/*
 * reads: db_read_record appends to the worker's pending list and activates
 * a flush event; libevent runs it after the callbacks already active in
 * this turn, so every read answered in the same turn is recorded by one
 * Q_AUDIT_READS_APPEND (at most FLUSH_MAX records per statement).
 */
#include "db/reads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "db/db_internal.h"
#include "db/pg.h"
#include "db/pgarray.h"
#include "db/queries.h"
#include "db/store.h"

#define FLUSH_MAX 1000

struct pending {
    TAILQ_ENTRY(pending) link;
    int64_t principal;
    char *action, *object, *detail;
    db_done_cb cb;
    void *arg;
};
TAILQ_HEAD(pending_list, pending);

struct flush {
    size_t n;
    struct pending **items;
};

struct read_queue {
    struct pg_pool *pool;
    struct event *ev_flush;
    struct pending_list pending;
    size_t n_pending;
    bool scheduled;
};

static void pending_free(struct pending *p)
{
    free(p->action);
    free(p->object);
    free(p->detail);
    free(p);
}

static void flush_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct flush *f = arg;
    bool ok = o == PG_OK && PQntuples(res) == 1 &&
              store_int(res, 0, store_col(res, "n")) == (int64_t)f->n;
    if (ok)
        metrics_add(MC_AUDIT_READS, f->n);
    if (o == PG_OK && !ok)
        log_error("reads: the trail took a different number of records than %zu", f->n);
    o = store_outcome(&Q_AUDIT_READS_APPEND, o, res);
    for (size_t i = 0; i < f->n; i++) {
        struct pending *p = f->items[i];
        p->cb(p->arg, ok ? PG_OK : o == PG_OK ? PG_ERROR : o);
        pending_free(p);
    }
    free(f->items);
    free(f);
}

static void flush_some(struct read_queue *q)
{
    size_t n = q->n_pending < FLUSH_MAX ? q->n_pending : FLUSH_MAX;
    metrics_batch(MB_READS, n);
    struct flush *f = xcalloc(1, sizeof *f);
    f->items = xcalloc(n, sizeof *f->items);
    struct pgarray a[4];
    for (int k = 0; k < 4; k++)
        pgarray_init(&a[k]);
    for (size_t i = 0; i < n; i++) {
        struct pending *p = TAILQ_FIRST(&q->pending);
        TAILQ_REMOVE(&q->pending, p, link);
        q->n_pending--;
        f->items[f->n++] = p;
        char pid[24];
        snprintf(pid, sizeof pid, "%lld", (long long)p->principal);
        pgarray_add(&a[0], pid);
        pgarray_add(&a[1], p->action);
        pgarray_add(&a[2], p->object);
        pgarray_add(&a[3], p->detail);
    }
    const char *params[4];
    for (int k = 0; k < 4; k++)
        params[k] = pgarray_finish(&a[k]);
    pg_submit(q->pool, &Q_AUDIT_READS_APPEND, params, flush_cb, f);
    for (int k = 0; k < 4; k++)
        pgarray_free(&a[k]);
}

static void flush_event_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct read_queue *q = arg;
    q->scheduled = false;
    while (q->n_pending > 0)
        flush_some(q);
}

struct read_queue *reads_new(struct event_base *base, struct pg_pool *pool)
{
    struct read_queue *q = xcalloc(1, sizeof *q);
    q->pool = pool;
    TAILQ_INIT(&q->pending);
    q->ev_flush = event_new(base, -1, 0, flush_event_cb, q);
    if (!q->ev_flush) {
        free(q);
        return NULL;
    }
    return q;
}

void reads_free(struct read_queue *q)
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

void db_read_record(struct db *db, int64_t principal, const char *action, const char *object,
                    const char *ssin, db_done_cb cb, void *arg)
{
    struct read_queue *q = db->reads;
    struct pending *p = xcalloc(1, sizeof *p);
    p->principal = principal;
    p->action = xstrdup(action);
    p->object = xstrdup(object);
    /* an SSIN is 11 digits (checked by the caller): nothing to escape */
    p->detail = ssin ? xasprintf("{\"ssin\":\"%s\"}", ssin) : xstrdup("{\"ssin\":null}");
    p->cb = cb;
    p->arg = arg;
    TAILQ_INSERT_TAIL(&q->pending, p, link);
    q->n_pending++;
    if (!q->scheduled) {
        q->scheduled = true;
        event_active(q->ev_flush, EV_READ, 0);
    }
}
