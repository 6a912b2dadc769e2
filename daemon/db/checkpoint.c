/*
 * checkpoint: read the heads, sign them, insert; the interval's timer.
 */
#include "db/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/sign.h"
#include "db/db_internal.h"
#include "db/store.h"
#include "db/tree.h"

#define MAX_CHAINS 64

struct make_call;

struct checkpointer {
    struct db *db;
    struct sign_key *key;
    int64_t interval_s;
    struct event *ev_timer;
    /* the timer's checkpoint still in the pool: freed with the checkpointer
     * when the worker stops first (the pool drops it without a callback) */
    struct make_call *inflight;
    struct tree_make *tree_inflight; /* the same, for the interval's tree head */
};

char *checkpoint_text(const char *created_at, const char *key_id, const struct checkpoint_head *h,
                      size_t n)
{
    size_t cap = 200 + n * 120;
    char *t = xmalloc(cap);
    size_t o = (size_t)snprintf(t, cap, "medaid audit checkpoint v1\ncreated_at %s\nkey_id %s\n",
                                created_at, key_id);
    for (size_t i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(t + o, cap - o, "%d %lld %lld %s\n", h[i].chain,
                              (long long)h[i].chain_seq, (long long)h[i].seq, h[i].hash);
    return t;
}

bool db_checkpoints_enabled(const struct db *db)
{
    return db->checkpoints && db->checkpoints->key;
}

const struct sign_key *db_checkpoint_key(const struct db *db)
{
    return db_checkpoints_enabled(db) ? db->checkpoints->key : NULL;
}

const char *db_checkpoint_key_id(const struct db *db)
{
    return db_checkpoints_enabled(db) ? sign_key_id(db->checkpoints->key) : NULL;
}

bool db_checkpoint_signed(const struct db *db, const char *text, const char *sig)
{
    return db_checkpoints_enabled(db) && sign_verify(db->checkpoints->key, text, strlen(text), sig);
}

/* ---- making one ------------------------------------------------------------------------ */

struct make_call {
    struct db *db;
    bool timer; /* with the interval's slot */
    db_checkpoint_cb cb;
    void *arg;
    char *answer; /* without id */
};

static void insert_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct make_call *m = arg;
    o = store_outcome(&Q_AUDIT_CHECKPOINT_INSERT, o, res);
    if (o != PG_OK) {
        m->cb(m->arg, o, NULL);
    } else if (PQntuples(res) != 1) {
        m->cb(m->arg, PG_OK, NULL); /* this interval has its checkpoint */
    } else {
        char *json =
            xasprintf("{\"id\":%s,%s", PQgetvalue(res, 0, store_col(res, "id")), m->answer + 1);
        m->cb(m->arg, PG_OK, json);
        free(json);
    }
    free(m->answer);
    free(m);
}

static void heads_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct make_call *m = arg;
    o = store_outcome(&Q_AUDIT_CHECKPOINT_HEADS, o, res);
    int n = o == PG_OK ? PQntuples(res) : 0;
    if (o == PG_OK && (n < 1 || n > MAX_CHAINS))
        o = PG_ERROR;
    if (o != PG_OK) {
        m->cb(m->arg, o, NULL);
        free(m);
        return;
    }
    struct checkpoint_head h[MAX_CHAINS];
    int chain = store_col(res, "chain"), cseq = store_col(res, "last_chain_seq"),
        seq = store_col(res, "last_seq"), hash = store_col(res, "last_hash");
    for (int i = 0; i < n; i++) {
        h[i].chain = (int)store_int(res, i, chain);
        h[i].chain_seq = store_int(res, i, cseq);
        h[i].seq = store_int(res, i, seq);
        snprintf(h[i].hash, sizeof h[i].hash, "%s", PQgetvalue(res, i, hash));
    }
    const char *at = PQgetvalue(res, 0, store_col(res, "at"));
    const struct sign_key *key = m->db->checkpoints->key;
    char *text = checkpoint_text(at, sign_key_id(key), h, (size_t)n);
    char sig[SIGN_B64_LEN + 1];
    if (!sign_data(key, text, strlen(text), sig)) {
        free(text);
        m->cb(m->arg, PG_ERROR, NULL);
        free(m);
        return;
    }
    size_t cap = 400 + (size_t)n * 140;
    char *ans = xmalloc(cap);
    size_t w = (size_t)snprintf(ans, cap,
                                "{\"created_at\":\"%s\",\"key_id\":\"%s\",\"public_key\":\"%s\","
                                "\"chains\":%d,\"heads\":[",
                                at, sign_key_id(key), sign_key_public_b64(key), n);
    for (int i = 0; i < n && w < cap; i++)
        w += (size_t)snprintf(
            ans + w, cap - w, "%s{\"chain\":%d,\"chain_seq\":%lld,\"seq\":%lld,\"hash\":\"%s\"}",
            i ? "," : "", h[i].chain, (long long)h[i].chain_seq, (long long)h[i].seq, h[i].hash);
    if (w < cap)
        snprintf(ans + w, cap - w, "],\"signature\":\"%s\"}", sig);
    m->answer = ans;
    char interval[24];
    snprintf(interval, sizeof interval, "%lld", (long long)m->db->checkpoints->interval_s);
    const char *params[] = {m->timer ? interval : NULL, sign_key_id(key), text, sig, ans};
    pg_submit(m->db->pool, &Q_AUDIT_CHECKPOINT_INSERT, params, insert_cb, m);
    free(text);
}

static struct make_call *make(struct db *db, bool timer, db_checkpoint_cb cb, void *arg)
{
    struct make_call *m = xcalloc(1, sizeof *m);
    m->db = db;
    m->timer = timer;
    m->cb = cb;
    m->arg = arg;
    pg_submit(db->pool, &Q_AUDIT_CHECKPOINT_HEADS, NULL, heads_cb, m);
    return m;
}

void db_checkpoint_make(struct db *db, db_checkpoint_cb cb, void *arg)
{
    (void)make(db, false, cb, arg);
}

struct latest_call {
    const struct pg_stmt *stmt;
    db_checkpoint_cb cb;
    void *arg;
};

static void latest_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct latest_call call = *(struct latest_call *)arg;
    free(arg);
    o = store_outcome(call.stmt, o, res);
    if (o != PG_OK || PQntuples(res) != 1) {
        call.cb(call.arg, o, NULL);
        return;
    }
    const char *ans = PQgetvalue(res, 0, store_col(res, "answer"));
    char *json = xasprintf("{\"id\":%s,%s", PQgetvalue(res, 0, store_col(res, "id")), ans + 1);
    call.cb(call.arg, PG_OK, json);
    free(json);
}

void db_signed_latest(struct db *db, const struct pg_stmt *stmt, db_checkpoint_cb cb, void *arg)
{
    struct latest_call *call = xmalloc(sizeof *call);
    call->stmt = stmt;
    call->cb = cb;
    call->arg = arg;
    pg_submit(db->pool, stmt, NULL, latest_cb, call);
}

void db_checkpoint_latest(struct db *db, db_checkpoint_cb cb, void *arg)
{
    db_signed_latest(db, &Q_AUDIT_CHECKPOINT_LATEST, cb, arg);
}

/* ---- completeness ------------------------------------------------------------------------ */

/* Decisions (and then agreements) per page: one page is one short statement,
 * as the chain walk's, however large the tables grow (schema/010). */
enum { MISSING_PAGE = 2000 };

struct missing_call {
    struct db *db;
    db_missing_cb cb;
    void *arg;
    bool agreements; /* the decisions' pages are done */
    bool started;    /* after holds a key */
    char after[64];
};

static void missing_page(struct missing_call *call);

static void missing_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct missing_call *call = arg;
    o = store_outcome(&Q_AUDIT_MISSING_PAGE, o, res);
    int rows = o == PG_OK ? PQntuples(res) : 0;
    if (o != PG_OK || rows < 1) {
        db_missing_cb cb = call->cb;
        void *cb_arg = call->arg;
        free(call);
        cb(cb_arg, o == PG_OK ? PG_BAD_DATA : o, NULL, NULL, 0);
        return;
    }
    int kind = store_col(res, "kind");
    if (!PQgetisnull(res, 0, kind)) { /* the first missing one, in audit_missing's order */
        db_missing_cb cb = call->cb;
        void *cb_arg = call->arg;
        free(call);
        cb(cb_arg, PG_OK, PQgetvalue(res, 0, kind), PQgetvalue(res, 0, store_col(res, "object")),
           store_int(res, 0, store_col(res, "records")));
        return;
    }
    const char *next = store_val(res, rows - 1, store_col(res, "next_after"));
    if (next != NULL) {
        snprintf(call->after, sizeof call->after, "%s", next);
        call->started = true;
    } else if (!call->agreements) {
        call->agreements = true;
        call->started = false;
    } else {
        db_missing_cb cb = call->cb;
        void *cb_arg = call->arg;
        free(call);
        cb(cb_arg, PG_OK, NULL, NULL, 0);
        return;
    }
    missing_page(call);
}

static void missing_page(struct missing_call *call)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", MISSING_PAGE);
    const char *params[] = {call->agreements ? "agreement" : "decision_version",
                            call->started ? call->after : NULL, limit};
    pg_submit(call->db->pool, &Q_AUDIT_MISSING_PAGE, params, missing_cb, call);
}

void db_audit_missing(struct db *db, db_missing_cb cb, void *arg)
{
    struct missing_call *call = xcalloc(1, sizeof *call);
    call->db = db;
    call->cb = cb;
    call->arg = arg;
    missing_page(call);
}

/* ---- the interval ------------------------------------------------------------------------ */

/* just after the next multiple of the interval (the same moment in every
 * worker, so that they all aim at the same slot) */
static void arm(struct checkpointer *c)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t i = c->interval_s;
    struct timeval tv = {(time_t)(i - (int64_t)now.tv_sec % i), 500 * 1000};
    evtimer_add(c->ev_timer, &tv);
}

static void timer_done(void *arg, enum pg_outcome o, const char *json)
{
    struct checkpointer *c = arg;
    c->inflight = NULL; /* its caller frees it after this call */
    if (o != PG_OK)
        log_warn("audit: the interval's checkpoint was not made (database outcome %d)", (int)o);
    else if (json)
        log_info("audit: checkpoint of the chain heads made");
}

static void tree_timer_done(void *arg, enum pg_outcome o, const char *json)
{
    struct checkpointer *c = arg;
    c->tree_inflight = NULL; /* freed by db/tree.c after this call */
    if (o != PG_OK)
        log_warn("audit: the interval's tree head was not made (database outcome %d)", (int)o);
    else if (json)
        log_info("audit: signed tree head made");
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct checkpointer *c = arg;
    if (!c->inflight) /* else the last one is still waiting for the database */
        c->inflight = make(c->db, true, timer_done, c);
    if (!c->tree_inflight)
        c->tree_inflight = db_tree_head_make(c->db, c->interval_s, tree_timer_done, c);
    arm(c);
}

struct checkpointer *checkpointer_new(struct event_base *base, struct db *db, bool *failed)
{
    const struct config *cfg = db->cfg;
    *failed = false;
    if (!cfg->audit_signing_key || !cfg->audit_signing_key[0])
        return NULL;
    char err[512];
    struct sign_key *key = sign_key_load(cfg->audit_signing_key, err, sizeof err);
    if (!key) {
        log_error("audit_signing_key: %s", err);
        *failed = true;
        return NULL;
    }
    struct checkpointer *c = xcalloc(1, sizeof *c);
    c->db = db;
    c->key = key;
    c->interval_s = cfg->audit_checkpoint_interval_s;
    if (c->interval_s > 0) {
        c->ev_timer = evtimer_new(base, timer_cb, c);
        if (!c->ev_timer) {
            checkpointer_free(c);
            *failed = true;
            return NULL;
        }
        arm(c);
    }
    return c;
}

void checkpointer_free(struct checkpointer *c)
{
    if (!c)
        return;
    if (c->ev_timer)
        event_free(c->ev_timer);
    if (c->inflight) {
        free(c->inflight->answer);
        free(c->inflight);
    }
    db_tree_make_free(c->tree_inflight);
    sign_key_free(c->key);
    free(c);
}
