/*
 * decisions: SQL, parameters and rows of decisions (db/statements.h).
 */
#include "db/decisions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "db/store.h"

#define WRITE_RETRIES 5

/* ---- one version --------------------------------------------------------- */

struct get_call {
    db_decision_cb cb;
    void *arg;
};

static void get_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct get_call call = *(struct get_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_DECISION_GET, o, res), NULL, 0);
        return;
    }
    if (PQntuples(res) != 1) {
        call.cb(call.arg, PG_OK, NULL, 0);
        return;
    }
    struct decision_cols c;
    decision_cols_find(res, &c);
    int cur = store_col(res, "current_version");
    struct decision d;
    if (!decision_from_row(res, 0, &c, &d)) {
        call.cb(call.arg, PG_BAD_DATA, NULL, 0);
        return;
    }
    call.cb(call.arg, PG_OK, &d, (int)store_int(res, 0, cur));
}

void db_decision_get(struct db *db, const char *id, int version, db_decision_cb cb, void *arg)
{
    struct get_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    char ver[16];
    snprintf(ver, sizeof ver, "%d", version);
    const char *params[] = {id, version > 0 ? ver : NULL};
    pg_submit(db->pool, &Q_DECISION_GET, params, get_cb, call);
}

/* ---- a person's decisions -------------------------------------------------- */

struct person_call {
    db_decisions_cb cb;
    void *arg;
};

static void person_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct person_call call = *(struct person_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_DECISIONS_OF_PERSON, o, res), NULL, 0);
        return;
    }
    int n = PQntuples(res);
    if (n == 0) {
        call.cb(call.arg, PG_OK, NULL, 0);
        return;
    }
    struct decision_cols c;
    decision_cols_find(res, &c);
    struct decision *ds = xcalloc((size_t)n, sizeof *ds);
    for (int i = 0; i < n; i++) {
        if (!decision_from_row(res, i, &c, &ds[i])) {
            free(ds);
            call.cb(call.arg, PG_BAD_DATA, NULL, 0);
            return;
        }
    }
    call.cb(call.arg, PG_OK, ds, (size_t)n);
    free(ds);
}

void db_decisions_of_person(struct db *db, const char *ssin, db_decisions_cb cb, void *arg)
{
    struct person_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    const char *params[] = {ssin};
    pg_submit(db->pool, &Q_DECISIONS_OF_PERSON, params, person_cb, call);
}

/* ---- history ------------------------------------------------------------------ */

struct history_call {
    db_history_cb cb;
    void *arg;
};

static void history_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct history_call call = *(struct history_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_DECISION_HISTORY, o, res), NULL, 0);
        return;
    }
    int n = PQntuples(res);
    if (n == 0) {
        call.cb(call.arg, PG_OK, NULL, 0);
        return;
    }
    struct decision_cols c;
    decision_cols_find(res, &c);
    int change = store_col(res, "change"), principal = store_col(res, "principal"),
        role = store_col(res, "role"), org = store_col(res, "organisation"),
        name = store_col(res, "name");
    struct decision_history_entry *v = xcalloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) {
        if (!decision_from_row(res, i, &c, &v[i].d)) {
            free(v);
            call.cb(call.arg, PG_BAD_DATA, NULL, 0);
            return;
        }
        v[i].change = PQgetvalue(res, i, change);
        v[i].principal = store_int(res, i, principal);
        v[i].role = PQgetvalue(res, i, role);
        v[i].organisation = PQgetvalue(res, i, org);
        v[i].name = PQgetvalue(res, i, name);
    }
    call.cb(call.arg, PG_OK, v, (size_t)n);
    free(v);
}

void db_decision_history(struct db *db, const char *id, db_history_cb cb, void *arg)
{
    struct history_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    const char *params[] = {id};
    pg_submit(db->pool, &Q_DECISION_HISTORY, params, history_cb, call);
}

/* ---- conflict ---------------------------------------------------------------- */

struct conflict_call {
    db_conflict_cb cb;
    void *arg;
};

static void conflict_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct conflict_call call = *(struct conflict_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_DECISION_CONFLICT, o, res), NULL, NULL);
        return;
    }
    if (PQntuples(res) != 1) {
        call.cb(call.arg, PG_OK, NULL, NULL);
        return;
    }
    call.cb(call.arg, PG_OK, PQgetvalue(res, 0, store_col(res, "id")),
            PQgetvalue(res, 0, store_col(res, "ocmw")));
}

void db_decision_conflict(struct db *db, const struct decision *d, const char *own_id,
                          db_conflict_cb cb, void *arg)
{
    struct conflict_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    char start[PDATE_STRLEN + 1], end[PDATE_STRLEN + 1];
    date_format(d->period.start, start);
    date_format(d->period.end, end);
    const char *params[] = {d->ssin, decision_kind_name(d->kind), start, end, own_id};
    pg_submit(db->pool, &Q_DECISION_CONFLICT, params, conflict_cb, call);
}

/* ---- idempotency keys ---------------------------------------------------------- */

struct idem_call {
    db_idempotency_cb cb;
    void *arg;
};

static void idem_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct idem_call call = *(struct idem_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_IDEMPOTENCY_GET, o, res), NULL);
        return;
    }
    if (PQntuples(res) == 0) {
        call.cb(call.arg, PG_OK, NULL);
        return;
    }
    struct idempotency_rec k = {
        .request_hash = PQgetvalue(res, 0, store_col(res, "request_hash")),
        .decision_id = PQgetvalue(res, 0, store_col(res, "decision_id")),
        .version = (int)store_int(res, 0, store_col(res, "version")),
        .status_code = (int)store_int(res, 0, store_col(res, "status_code")),
    };
    call.cb(call.arg, PG_OK, &k);
}

void db_idempotency_get(struct db *db, const char *organisation, const char *key,
                        db_idempotency_cb cb, void *arg)
{
    struct idem_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    const char *params[] = {organisation, key};
    pg_submit(db->pool, &Q_IDEMPOTENCY_GET, params, idem_cb, call);
}

/* ---- writes ---------------------------------------------------------------------- */

struct write_call {
    struct db *db;
    db_write_cb cb;
    void *arg;
    const struct pg_stmt *stmt;
    int retries;
    /* the parameters, kept for a write run again */
    char *id, *ocmw, *ssin, *status, *change, *key, *hash, *stored;
    char pid[24], start[PDATE_STRLEN + 1], end[PDATE_STRLEN + 1], ver[16];
    const char *kind;
};

static void write_free(struct write_call *w)
{
    free(w->id);
    free(w->ocmw);
    free(w->ssin);
    free(w->status);
    free(w->change);
    free(w->key);
    free(w->hash);
    free(w->stored);
    free(w);
}

static void write_submit(struct write_call *w);

static void write_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct write_call *w = arg;
    if (o == PG_RETRY && w->retries++ < WRITE_RETRIES) {
        /* concurrent writes for one person can deadlock while checking the
         * exclusion constraint; the database rolled ours back: write again */
        write_submit(w);
        return;
    }
    db_write_cb cb = w->cb;
    void *cb_arg = w->arg;
    const struct pg_stmt *stmt = w->stmt;
    write_free(w);
    const char *state = pg_sqlstate(res);
    if (o == PG_ERROR && strcmp(state, "23P01") == 0) {
        cb(cb_arg, PG_OK, DW_OVERLAP, NULL, 0, NULL);
        return;
    }
    if (o == PG_ERROR && strcmp(state, "23505") == 0) {
        cb(cb_arg, PG_OK, DW_KEY_TAKEN, NULL, 0, NULL);
        return;
    }
    if (o != PG_OK) {
        cb(cb_arg, store_outcome(stmt, o, res), DW_WRITTEN, NULL, 0, NULL);
        return;
    }
    if (PQntuples(res) != 1) {
        cb(cb_arg, PG_OK, DW_STALE, NULL, 0, NULL);
        return;
    }
    cb(cb_arg, PG_OK, DW_WRITTEN, PQgetvalue(res, 0, store_col(res, "id")),
       (int)store_int(res, 0, store_col(res, "version")),
       PQgetvalue(res, 0, store_col(res, "recorded_at")));
}

static void write_submit(struct write_call *w)
{
    if (w->stmt == &Q_DECISION_INSERT) {
        const char *params[] = {w->ocmw, w->ssin,   w->kind, w->pid, w->start,
                                w->end,  w->stored, w->key,  w->hash};
        pg_submit(w->db->pool, &Q_DECISION_INSERT, params, write_cb, w);
    } else {
        const char *params[] = {w->id,     w->ocmw, w->ver,    w->status, w->start, w->end,
                                w->stored, w->pid,  w->change, w->key,    w->hash};
        pg_submit(w->db->pool, &Q_DECISION_NEW_VERSION, params, write_cb, w);
    }
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void db_decision_write(struct db *db, const struct decision_write *in, db_write_cb cb, void *arg)
{
    struct write_call *w = xcalloc(1, sizeof *w);
    const struct decision *d = in->d;
    w->db = db;
    w->cb = cb;
    w->arg = arg;
    w->stmt = in->id ? &Q_DECISION_NEW_VERSION : &Q_DECISION_INSERT;
    w->stored = decision_encode(d, false);
    ASSERT(w->stored != NULL);
    w->id = dup_or_null(in->id);
    w->ocmw = xstrdup(in->ocmw);
    w->ssin = xstrdup(d->ssin);
    w->status = xstrdup(decision_status_name(d->status));
    w->change = xstrdup(in->change);
    w->key = dup_or_null(in->key);
    w->hash = in->key ? dup_or_null(in->hash) : NULL;
    w->kind = decision_kind_name(d->kind);
    snprintf(w->pid, sizeof w->pid, "%lld", (long long)in->principal);
    snprintf(w->ver, sizeof w->ver, "%d", in->replaces);
    date_format(d->period.start, w->start);
    date_format(d->period.end, w->end);
    write_submit(w);
}
