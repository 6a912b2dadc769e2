/*
 * pg: asynchronous libpq pool on libevent.
 *
 * States of a connection: DOWN (waiting for the retry timer) -> CONNECTING
 * (PQconnectPoll) -> PREPARING (one PQsendPrepare per statement) -> IDLE <->
 * BUSY. Any failure goes back to DOWN with an exponential backoff.
 *
 * When no connection is up and the last attempts failed, the pool is
 * "failing": queries are answered PG_UNAVAILABLE at once instead of queued,
 * so a database outage turns into a fast 503, not a hang.
 *
 * A database that is up but does not answer (frozen, stalled disk, a lock
 * held for long) is bounded by the client side: every query has a wait
 * deadline (wait_timeout_ms from pg_submit: queue wait, send and result
 * alike), checked by the pool's tick. On expiry the caller gets PG_TIMEOUT
 * (still queued, or read-only: nothing changed) or PG_WR_TIMEOUT (a write
 * was sent: outcome unknown), and a connection that was running it is
 * dropped: PQfinish on a non-blocking connection only tries to write the
 * Terminate message once (no wait when the socket buffer is full) and
 * closes the socket, so nothing blocks the loop (PQcancel would: it opens a
 * new connection and waits for it). The connection comes back through the
 * usual reconnection with backoff, once the server answers again.
 *
 * Failover: the connection string may name several servers
 * ("host=a,b port=5432,5433 target_session_attrs=read-write"); libpq's
 * PQconnectPoll tries them in order and keeps the first that accepts writes
 * (the socket changes from one server to the next, so its event is made
 * again after every poll). A server that does not answer at all (a machine
 * gone, no refusal) would hold every attempt at the first host until the
 * connect timeout: after each timed-out attempt, the next attempt of that
 * connection starts one host further in the list. A connection to a server
 * that became a standby (a demoted primary refuses writes: 25006
 * read_only_sql_transaction) or that is shutting down (57P01..57P03) is
 * dropped after answering its query PG_UNAVAILABLE (nothing changed), so the
 * next connection goes to the new primary. A lost connection is the usual
 * DOWN + backoff (at most retry_max_ms), so the service is back within about
 * that delay once the new primary accepts connections.
 */
#include "db/pg.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"

enum pgc_state { PGC_DOWN, PGC_CONNECTING, PGC_PREPARING, PGC_IDLE, PGC_BUSY };

struct pg_query {
    TAILQ_ENTRY(pg_query) link;
    const struct pg_stmt *stmt;
    char *params[PG_MAX_PARAMS];
    pg_cb cb;
    void *arg;
    int64_t deadline_ms;      /* of the wait for a free connection */
    int64_t wait_deadline_ms; /* of the whole wait, until the result */
    int64_t queued_ms;        /* when it had to wait for a connection (0: it did not) */
    int resent;
    enum pg_outcome outcome;
    PGresult *res;
};
TAILQ_HEAD(pg_query_list, pg_query);

struct pg_conn {
    struct pg_pool *pool;
    int idx;
    PGconn *conn;
    enum pgc_state state;
    int fd;
    struct event *ev_io;
    struct event *ev_timer; /* connect timeout or retry delay */
    size_t prep_i;
    struct pg_query *q;
    PGresult *res;
    int64_t retry_ms;
    int host_off; /* the host its next attempt starts with (multi-host) */
};

struct pg_pool {
    struct event_base *base;
    char *conninfo;
    PQconninfoOption *parsed; /* conninfo parsed, for the rotation of its hosts */
    int n_hosts;              /* servers named by host/hostaddr (1 when one) */
    char options[128];
    struct pg_pool_opts opts;
    const struct pg_stmt *const *stmts;
    char tag[16];
    struct pg_conn *conns;
    int n;
    int n_up;
    bool failing;
    struct pg_query_list waiting;
    struct pg_query_list done;
    struct event *ev_done;
    struct event *ev_tick;
};

/* the pool gauges count the primary's pools only */
static void pool_gauge(const struct pg_pool *p, enum metric_gauge g, int64_t delta)
{
    if (!p->opts.standby)
        metrics_gauge_add(g, delta);
}

static void conn_io_cb(evutil_socket_t fd, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_start(struct pg_conn *c);
static void pool_dispatch(struct pg_pool *p);

const char *pg_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

bool pg_outcome_transient(enum pg_outcome o)
{
    return o == PG_UNAVAILABLE || o == PG_LOST || o == PG_RETRY || o == PG_TIMEOUT ||
           o == PG_WR_TIMEOUT;
}

/* The one place that decides which failures are passing: what a statement
 * that the server refused tells its caller. */
static enum pg_outcome classify(const PGresult *res)
{
    static const char *const unavailable[] = {
        "57014", /* query_canceled: statement_timeout (or a cancel) */
        "57P01", /* admin_shutdown */
        "57P02", /* crash_shutdown */
        "57P03", /* cannot_connect_now */
        "53300", /* too_many_connections */
        "25006", /* read_only_sql_transaction: a standby (a demoted primary) */
    };
    const char *s = pg_sqlstate(res);
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return PG_RETRY; /* serialization_failure, deadlock_detected */
    if (strncmp(s, "08", 2) == 0)
        return PG_UNAVAILABLE; /* connection exceptions */
    for (size_t i = 0; i < sizeof unavailable / sizeof *unavailable; i++)
        if (strcmp(s, unavailable[i]) == 0)
            return PG_UNAVAILABLE;
    if (strncmp(s, "22", 2) == 0)
        return PG_INVALID; /* data exception: a parameter's value */
    return PG_ERROR;
}

/* A refusal that says the connection is of no more use for writes: the
 * server became a standby (a demoted primary) or is shutting down. */
static bool server_gone(const PGresult *res)
{
    static const char *const gone[] = {"25006", "57P01", "57P02", "57P03"};
    const char *s = pg_sqlstate(res);
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        if (strcmp(s, gone[i]) == 0)
            return true;
    return false;
}

/* ---- completion ---------------------------------------------------------- */

static void query_complete(struct pg_pool *p, struct pg_query *q, enum pg_outcome o, PGresult *res)
{
    q->outcome = o;
    q->res = res;
    if (pg_outcome_transient(o) || o == PG_LOST)
        metrics_inc(MC_POOL_ERRORS);
    TAILQ_INSERT_TAIL(&p->done, q, link);
    event_active(p->ev_done, EV_READ, 0);
}

static void query_free(struct pg_query *q)
{
    for (int i = 0; i < PG_MAX_PARAMS; i++)
        free(q->params[i]);
    PQclear(q->res);
    free(q);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pg_pool *p = arg;
    /* callbacks may submit again: take the list as it is now */
    struct pg_query_list batch = TAILQ_HEAD_INITIALIZER(batch);
    TAILQ_CONCAT(&batch, &p->done, link);
    struct pg_query *q;
    while ((q = TAILQ_FIRST(&batch))) {
        TAILQ_REMOVE(&batch, q, link);
        q->cb(q->arg, q->outcome, q->res);
        query_free(q);
    }
}

static void fail_waiting(struct pg_pool *p)
{
    struct pg_query *q;
    while ((q = TAILQ_FIRST(&p->waiting))) {
        TAILQ_REMOVE(&p->waiting, q, link);
        query_complete(p, q, PG_UNAVAILABLE, NULL);
    }
}

static void conn_fail(struct pg_conn *c, const char *why);

/* The database did not answer c's query in time: answer its caller, drop the
 * connection (the server may still be running the statement; it stops when
 * it notices the closed socket or at its statement_timeout). */
static void conn_wait_expired(struct pg_conn *c, int64_t waited_ms)
{
    struct pg_pool *p = c->pool;
    struct pg_query *q = c->q;
    c->q = NULL;
    log_warn("%s db%d: no answer to %s in %lld ms: connection dropped%s", p->tag, c->idx,
             q->stmt->name, (long long)waited_ms,
             q->stmt->readonly ? "" : " (a write: its outcome is unknown)");
    query_complete(p, q, q->stmt->readonly ? PG_TIMEOUT : PG_WR_TIMEOUT, NULL);
    conn_fail(c, "wait timeout");
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pg_pool *p = arg;
    int64_t now = mono_ms();
    struct pg_query *q, *next;
    for (q = TAILQ_FIRST(&p->waiting); q; q = next) {
        next = TAILQ_NEXT(q, link);
        if (q->wait_deadline_ms <= now) {
            TAILQ_REMOVE(&p->waiting, q, link);
            query_complete(p, q, PG_TIMEOUT, NULL);
        } else if (q->deadline_ms <= now) {
            TAILQ_REMOVE(&p->waiting, q, link);
            query_complete(p, q, PG_UNAVAILABLE, NULL);
        }
    }
    for (int i = 0; i < p->n; i++) {
        struct pg_conn *c = &p->conns[i];
        if (c->state == PGC_BUSY && c->q && c->q->wait_deadline_ms <= now)
            conn_wait_expired(c, now - c->q->wait_deadline_ms + p->opts.wait_timeout_ms);
    }
}

/* ---- connection state ---------------------------------------------------- */

static bool conn_is_up(const struct pg_conn *c)
{
    return c->state == PGC_IDLE || c->state == PGC_BUSY;
}

static void conn_watch(struct pg_conn *c, short what)
{
    int fd = PQsocket(c->conn);
    if (c->ev_io && (fd != c->fd || event_get_events(c->ev_io) != (what | EV_PERSIST))) {
        event_free(c->ev_io);
        c->ev_io = NULL;
    }
    c->fd = fd;
    if (!c->ev_io) {
        c->ev_io = event_new(c->pool->base, fd, what | EV_PERSIST, conn_io_cb, c);
        if (!c->ev_io || event_add(c->ev_io, NULL) != 0)
            log_error("%s db%d: cannot watch the database socket", c->pool->tag, c->idx);
    }
}

/* While connecting, libpq may close the socket and open another (the next
 * host of the list), often with the same number: the old registration died
 * with the old socket, so the event is always made again. */
static void conn_rewatch(struct pg_conn *c, short what)
{
    if (c->ev_io) {
        event_free(c->ev_io);
        c->ev_io = NULL;
    }
    conn_watch(c, what);
}

static void conn_close(struct pg_conn *c)
{
    if (c->ev_io) {
        event_free(c->ev_io);
        c->ev_io = NULL;
    }
    evtimer_del(c->ev_timer);
    if (c->conn) {
        PQfinish(c->conn);
        c->conn = NULL;
    }
    PQclear(c->res);
    c->res = NULL;
    c->fd = -1;
}

/* Connection lost or never made: back to DOWN, retry later. */
static void conn_fail(struct pg_conn *c, const char *why)
{
    struct pg_pool *p = c->pool;
    bool was_up = conn_is_up(c);
    char msg[256] = "";
    if (c->conn) {
        const char *e = PQerrorMessage(c->conn);
        snprintf(msg, sizeof msg, "%s", e ? e : "");
    }
    struct pg_query *lost = c->q;
    c->q = NULL;
    conn_close(c);
    c->state = PGC_DOWN;
    metrics_inc(MC_POOL_CONNECT_FAILURES);
    if (was_up) {
        p->n_up--;
        pool_gauge(p, MG_POOL_UP, -1);
        if (p->n_up == 0)
            pool_gauge(p, MG_POOLS_DOWN, 1);
        log_warn("%s db%d: connection lost (%s): %s", p->tag, c->idx, why, msg);
    } else {
        log_debug("%s db%d: connection failed (%s): %s", p->tag, c->idx, why, msg);
    }
    if (lost) {
        /* a read changes nothing: run it again on another connection (one
         * that died under it, e.g. a server restart, is common); a write's
         * outcome is unknown and only its caller can decide */
        if (lost->stmt->readonly && lost->resent++ < 2 && p->n_up > 0) {
            TAILQ_INSERT_HEAD(&p->waiting, lost, link);
        } else {
            query_complete(p, lost, PG_LOST, NULL);
        }
    }
    if (p->n_up == 0) {
        if (!p->failing)
            log_warn("%s: database unavailable (%s): %s", p->tag, why, msg);
        p->failing = true;
        fail_waiting(p);
    }
    struct timeval tv = clock_tv(c->retry_ms);
    evtimer_add(c->ev_timer, &tv);
    c->retry_ms = c->retry_ms * 2 > p->opts.retry_max_ms ? p->opts.retry_max_ms : c->retry_ms * 2;
    pool_dispatch(p);
}

static void conn_ready(struct pg_conn *c)
{
    struct pg_pool *p = c->pool;
    c->state = PGC_IDLE;
    c->retry_ms = 50;
    p->n_up++;
    pool_gauge(p, MG_POOL_UP, 1);
    if (p->n_up == 1)
        pool_gauge(p, MG_POOLS_DOWN, -1);
    if (p->failing)
        log_info("%s: database available again", p->tag);
    p->failing = false;
    conn_watch(c, EV_READ);
    pool_dispatch(p);
}

static void prepare_next(struct pg_conn *c)
{
    const struct pg_stmt *s = c->pool->stmts[c->prep_i];
    if (!s) {
        conn_ready(c);
        return;
    }
    if (!PQsendPrepare(c->conn, s->name, s->sql, s->nparams, NULL)) {
        conn_fail(c, "prepare send");
        return;
    }
    int f = PQflush(c->conn);
    if (f < 0) {
        conn_fail(c, "prepare flush");
        return;
    }
    conn_watch(c, f ? EV_READ | EV_WRITE : EV_READ);
}

/* Read what the server sent; returns false when the connection broke.
 * *complete is set when the current command returned all its results. */
static bool conn_read(struct pg_conn *c, bool *complete)
{
    *complete = false;
    if (!PQconsumeInput(c->conn))
        return false;
    while (!PQisBusy(c->conn)) {
        PGresult *r = PQgetResult(c->conn);
        if (!r) {
            *complete = true;
            return true;
        }
        if (!c->res)
            c->res = r;
        else
            PQclear(r);
    }
    return true;
}

/* Flush what is still to send, then read what arrived. Returns -1 when the
 * connection broke (already failed, with why), 1 when the command
 * returned all its results, 0 when more is to come. */
static int conn_pump(struct pg_conn *c, short what, const char *why)
{
    bool complete = false;
    if (what & EV_WRITE) {
        int f = PQflush(c->conn);
        if (f < 0) {
            conn_fail(c, why);
            return -1;
        }
        if (f == 0)
            conn_watch(c, EV_READ);
    }
    if (!(what & EV_READ))
        return 0;
    if (!conn_read(c, &complete)) {
        conn_fail(c, why);
        return -1;
    }
    return complete ? 1 : 0;
}

static void conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct pg_conn *c = arg;
    struct pg_pool *p = c->pool;
    bool complete;

    switch (c->state) {
    case PGC_CONNECTING:
        switch (PQconnectPoll(c->conn)) {
        case PGRES_POLLING_READING:
            conn_rewatch(c, EV_READ);
            return;
        case PGRES_POLLING_WRITING:
            conn_rewatch(c, EV_WRITE);
            return;
        case PGRES_POLLING_OK:
            evtimer_del(c->ev_timer);
            if (PQsetnonblocking(c->conn, 1) != 0) {
                conn_fail(c, "nonblocking");
                return;
            }
            c->state = PGC_PREPARING;
            c->prep_i = 0;
            prepare_next(c);
            return;
        default:
            conn_fail(c, "connect");
            return;
        }
    case PGC_PREPARING:
        if (conn_pump(c, what, "prepare") <= 0)
            return;
        if (!c->res || PQresultStatus(c->res) != PGRES_COMMAND_OK) {
            log_error("%s db%d: cannot prepare %s: %s(has `medaidd migrate` run?)", p->tag, c->idx,
                      p->stmts[c->prep_i]->name,
                      c->res ? PQresultErrorMessage(c->res) : "no result ");
            conn_fail(c, "prepare");
            return;
        }
        PQclear(c->res);
        c->res = NULL;
        log_debug("%s db%d: prepared %s", p->tag, c->idx, p->stmts[c->prep_i]->name);
        c->prep_i++;
        prepare_next(c);
        return;
    case PGC_IDLE:
        /* the server may close an idle connection (restart, terminate) */
        if (!conn_read(c, &complete) || PQstatus(c->conn) == CONNECTION_BAD) {
            conn_fail(c, "idle read");
            return;
        }
        PQclear(c->res);
        c->res = NULL;
        return;
    case PGC_BUSY:
        if (conn_pump(c, what, "query") <= 0)
            return;
        {
            struct pg_query *q = c->q;
            PGresult *res = c->res;
            c->q = NULL;
            c->res = NULL;
            c->state = PGC_IDLE;
            ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
            bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
            /* expected refusals (constraints) are the handler's to judge */
            if (!ok && res)
                log_debug("%s db%d: %s failed: %s %s", p->tag, c->idx, q->stmt->name,
                          pg_sqlstate(res), PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
            bool gone = !ok && server_gone(res);
            query_complete(p, q, ok ? PG_OK : classify(res), res);
            if (gone) {
                conn_fail(c, "the server is read-only or shutting down");
                return;
            }
            if (PQstatus(c->conn) == CONNECTION_BAD) {
                conn_fail(c, "after result");
                return;
            }
        }
        pool_dispatch(p);
        return;
    case PGC_DOWN:
        return;
    }
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pg_conn *c = arg;
    if (c->state == PGC_DOWN)
        conn_start(c);
    else if (c->state == PGC_CONNECTING || c->state == PGC_PREPARING) {
        /* a server that does not answer: the next attempt starts with the
         * next one of the list */
        c->host_off = (c->host_off + 1) % c->pool->n_hosts;
        conn_fail(c, "connect timeout");
    }
}

/* libpq's notices (and errors it reports outside a query, such as the
 * server terminating a connection) go to our log, not to stderr */
static void notice_cb(void *arg, const char *message)
{
    struct pg_conn *c = arg;
    log_warn("%s db%d: server says: %s", c->pool->tag, c->idx, message);
}

/* The number of elements of a comma-separated list (libpq's host, hostaddr
 * and port lists). */
static int list_count(const char *s)
{
    int n = 1;
    for (; *s; s++)
        n += *s == ',';
    return n;
}

/* s, a list of more than off elements (shorter than outlen), rotated left
 * by off elements into out: the tail from element off, then the head */
static void list_rotate(const char *s, int off, char *out, size_t outlen)
{
    const char *from = s;
    for (int i = 0; i < off; i++)
        from = strchr(from, ',') + 1;
    size_t tail = strlen(from), head = off ? (size_t)(from - s - 1) : 0;
    ASSERT(tail + 1 + head < outlen);
    memcpy(out, from, tail);
    if (off) {
        out[tail] = ',';
        memcpy(out + tail + 1, s, head);
        out[tail + 1 + head] = '\0';
    } else {
        out[tail] = '\0';
    }
}

/* PQconnectStartParams for the attempt of c: the connection string as it is
 * (one host, or the first attempt), or its options with the host lists
 * rotated to start at c->host_off. */
static PGconn *conn_begin(struct pg_conn *c)
{
    struct pg_pool *p = c->pool;
    if (!p->parsed || p->n_hosts < 2 || c->host_off == 0) {
        const char *keys[] = {"dbname", "options", "application_name", "client_encoding", NULL};
        const char *vals[] = {p->conninfo, p->options, "medaidd", "UTF8", NULL};
        return PQconnectStartParams(keys, vals, 1);
    }
    size_t n = 0;
    for (PQconninfoOption *o = p->parsed; o->keyword; o++)
        n++;
    const char **keys = xcalloc(n + 4, sizeof *keys);
    const char **vals = xcalloc(n + 4, sizeof *vals);
    char(*rot)[1024] = xcalloc(3, sizeof *rot);
    size_t k = 0;
    int r = 0;
    for (PQconninfoOption *o = p->parsed; o->keyword; o++) {
        if (!o->val)
            continue;
        keys[k] = o->keyword;
        vals[k] = o->val;
        bool list = strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0 ||
                    strcmp(o->keyword, "port") == 0;
        if (list && r < 3 && list_count(o->val) == p->n_hosts && strlen(o->val) < sizeof rot[r]) {
            list_rotate(o->val, c->host_off, rot[r], sizeof rot[r]);
            vals[k] = rot[r++];
        }
        k++;
    }
    const char *ours[][2] = {
        {"options", p->options}, {"application_name", "medaidd"}, {"client_encoding", "UTF8"}};
    for (size_t i = 0; i < 3; i++) {
        keys[k] = ours[i][0];
        vals[k++] = ours[i][1];
    }
    PGconn *conn = PQconnectStartParams(keys, vals, 0);
    free(rot);
    free(keys);
    free(vals);
    return conn;
}

static void conn_start(struct pg_conn *c)
{
    struct pg_pool *p = c->pool;
    c->conn = conn_begin(c);
    if (!c->conn || PQstatus(c->conn) == CONNECTION_BAD) {
        conn_fail(c, "start");
        return;
    }
    PQsetNoticeProcessor(c->conn, notice_cb, c);
    c->state = PGC_CONNECTING;
    struct timeval tv = clock_tv(p->opts.connect_timeout_ms);
    evtimer_add(c->ev_timer, &tv);
    conn_watch(c, EV_WRITE);
}

/* ---- queries ------------------------------------------------------------- */

static void conn_send(struct pg_conn *c, struct pg_query *q)
{
    const char *params[PG_MAX_PARAMS];
    for (int i = 0; i < q->stmt->nparams; i++)
        params[i] = q->params[i];
    c->q = q;
    c->state = PGC_BUSY;
    if (!PQsendQueryPrepared(c->conn, q->stmt->name, q->stmt->nparams, params, NULL, NULL, 0)) {
        /* nothing reached the server: safe to report as unavailable */
        c->q = NULL;
        query_complete(c->pool, q, PG_UNAVAILABLE, NULL);
        conn_fail(c, "send");
        return;
    }
    int f = PQflush(c->conn);
    if (f < 0) {
        conn_fail(c, "flush");
        return;
    }
    conn_watch(c, f ? EV_READ | EV_WRITE : EV_READ);
}

static void pool_dispatch(struct pg_pool *p)
{
    for (int i = 0; i < p->n && !TAILQ_EMPTY(&p->waiting); i++) {
        struct pg_conn *c = &p->conns[i];
        if (c->state != PGC_IDLE)
            continue;
        struct pg_query *q = TAILQ_FIRST(&p->waiting);
        TAILQ_REMOVE(&p->waiting, q, link);
        if (q->queued_ms)
            metrics_add(MC_POOL_WAIT_US, (uint64_t)(mono_ms() - q->queued_ms) * 1000);
        conn_send(c, q);
    }
}

void pg_submit_n(struct pg_pool *p, const struct pg_stmt *stmt, const char *const *params,
                 int nparams, pg_cb cb, void *arg)
{
    if (nparams != stmt->nparams) {
        char what[160];
        snprintf(what, sizeof what, "statement %s takes %d parameters, given %d", stmt->name,
                 stmt->nparams, nparams);
        die_impossible(__FILE__, __LINE__, what);
    }
    ASSERT(stmt->nparams <= PG_MAX_PARAMS);
    struct pg_query *q = xcalloc(1, sizeof *q);
    q->stmt = stmt;
    q->cb = cb;
    q->arg = arg;
    for (int i = 0; i < stmt->nparams; i++)
        q->params[i] = params[i] ? xstrdup(params[i]) : NULL;
    if (p->failing) {
        metrics_inc(MC_POOL_QUERIES);
        query_complete(p, q, PG_UNAVAILABLE, NULL);
        return;
    }
    int64_t now = mono_ms();
    q->deadline_ms = now + p->opts.queue_timeout_ms;
    q->wait_deadline_ms = now + p->opts.wait_timeout_ms;
    TAILQ_INSERT_TAIL(&p->waiting, q, link);
    metrics_inc(MC_POOL_QUERIES);
    pool_dispatch(p);
    if (TAILQ_LAST(&p->waiting, pg_query_list) == q) { /* no free connection */
        q->queued_ms = now;
        metrics_inc(MC_POOL_WAITS);
    }
}

bool pg_pool_up(const struct pg_pool *p)
{
    return p->n_up > 0;
}

struct pg_pool *pg_pool_new(struct event_base *base, const char *conninfo,
                            const struct pg_pool_opts *opts, const struct pg_stmt *const *stmts,
                            const char *tag)
{
    struct pg_pool *p = xcalloc(1, sizeof *p);
    p->base = base;
    p->opts = *opts;
    p->stmts = stmts;
    snprintf(p->tag, sizeof p->tag, "%s", tag);
    snprintf(p->options, sizeof p->options, "-c statement_timeout=%lld -c TimeZone=UTC",
             (long long)opts->statement_timeout_ms);
    TAILQ_INIT(&p->waiting);
    TAILQ_INIT(&p->done);
    p->conninfo = xstrdup(conninfo);
    p->n_hosts = 1;
    p->parsed = PQconninfoParse(conninfo, NULL);
    for (PQconninfoOption *o = p->parsed; o && o->keyword; o++) {
        if (o->val && (strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0)) {
            int n = list_count(o->val);
            p->n_hosts = n > p->n_hosts ? n : p->n_hosts;
        }
    }
    p->n = opts->size;
    p->conns = xcalloc((size_t)p->n, sizeof *p->conns);
    pool_gauge(p, MG_POOLS, 1);
    pool_gauge(p, MG_POOLS_DOWN, 1);
    pool_gauge(p, MG_POOL_CONNS, p->n);
    p->ev_done = event_new(base, -1, 0, done_cb, p);
    p->ev_tick = event_new(base, -1, EV_PERSIST, tick_cb, p);
    if (!p->ev_done || !p->ev_tick) {
        pg_pool_free(p);
        return NULL;
    }
    struct timeval tick = {0, 50 * 1000};
    event_add(p->ev_tick, &tick);
    for (int i = 0; i < p->n; i++) {
        struct pg_conn *c = &p->conns[i];
        c->pool = p;
        c->idx = i;
        c->fd = -1;
        c->retry_ms = 50;
        c->ev_timer = evtimer_new(base, conn_timer_cb, c);
        if (!c->ev_timer) {
            pg_pool_free(p);
            return NULL;
        }
        conn_start(c);
    }
    return p;
}

void pg_pool_free(struct pg_pool *p)
{
    if (!p)
        return;
    pool_gauge(p, MG_POOLS, -1);
    pool_gauge(p, MG_POOLS_DOWN, p->n_up == 0 ? -1 : 0);
    pool_gauge(p, MG_POOL_UP, -p->n_up);
    pool_gauge(p, MG_POOL_CONNS, -p->n);
    for (int i = 0; p->conns && i < p->n; i++) {
        struct pg_conn *c = &p->conns[i];
        if (c->q) {
            query_free(c->q);
            c->q = NULL;
        }
        if (c->ev_timer) {
            conn_close(c);
            event_free(c->ev_timer);
        }
    }
    struct pg_query *q;
    while ((q = TAILQ_FIRST(&p->waiting))) {
        TAILQ_REMOVE(&p->waiting, q, link);
        query_free(q);
    }
    while ((q = TAILQ_FIRST(&p->done))) {
        TAILQ_REMOVE(&p->done, q, link);
        query_free(q);
    }
    if (p->ev_done)
        event_free(p->ev_done);
    if (p->ev_tick)
        event_free(p->ev_tick);
    free(p->conns);
    free(p->conninfo);
    if (p->parsed)
        PQconninfoFree(p->parsed);
    free(p);
}
