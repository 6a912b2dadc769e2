/*
 * agreements: group commit of coverage answers.
 *
 * agreements_record appends to the worker's pending list and activates a
 * flush event; libevent runs it after the callbacks already active in this
 * turn, so everything answered in the same turn goes out in one
 * Q_AGREEMENT_INSERT_MANY (at most FLUSH_MAX rows per statement).
 * Before it, one Q_AGREEMENT_NUMBERS takes their numbers (and records the
 * signing key), so that each answer is numbered and signed here, as it is
 * stored and sent: the signature covers the whole answer.
 * The other statements of agreements, and the coverage lookup, are below.
 */
#include "db/agreements.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "proto/answer_sig.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "base/sign.h"
#include "db/db_internal.h"
#include "db/pgarray.h"
#include "db/store.h"
#include "db/tariffs.h"

#define FLUSH_MAX 1000
#define CAS_MAX   1000 /* a capped answer recomputed because others took from the cap */

struct pending {
    TAILQ_ENTRY(pending) link;
    struct agreement_rec rec;
    agreement_cb cb;
    void *arg;
};
TAILQ_HEAD(pending_list, pending);

struct flush {
    struct agreement_queue *q;
    size_t n;
    struct pending **items;
};

struct agreement_queue {
    struct pg_pool *pool;
    struct event *ev_flush;
    struct pending_list pending;
    size_t n_pending;
    bool scheduled;                 /* ev_flush is active */
    struct sign_key *key;           /* NULL: answers are not signed */
    struct agreement_pubkey *older; /* agreement_public_keys */
    size_t n_older;
};

/* The answer as it is stored and sent: numbered, then signed over its
 * canonical form (proto/answer_sig.h) when there is a key. NULL when
 * signing failed (logged). */
static char *answer_as_sent(const struct agreement_queue *q, const char *number, const char *answer)
{
    char *text = xasprintf("{\"agreement\":\"%s\",%s", number, answer + 1);
    if (!q->key)
        return text;
    char *payload = answer_sig_payload(text, strlen(text));
    char sig[SIGN_B64_LEN + 1];
    char *out = NULL;
    if (!payload)
        log_error("agreements: an answer has no canonical form");
    else if (sign_data(q->key, payload, strlen(payload), sig))
        out = answer_sig_attach(text, sign_key_id(q->key), sig);
    free(payload);
    free(text);
    return out;
}

bool db_agreement_sign(const struct db *db, const char *data, size_t len, char *key_id, char *value)
{
    const struct agreement_queue *q = db->agreements;
    if (!q->key || !sign_data(q->key, data, len, value))
        return false;
    memcpy(key_id, sign_key_id(q->key), SIGN_KEY_ID_LEN + 1);
    return true;
}

static void numbers_params(const struct agreement_queue *q, const char *count,
                           const char *params[3])
{
    params[0] = count;
    params[1] = q->key ? sign_key_id(q->key) : NULL;
    params[2] = q->key ? sign_key_public_b64(q->key) : NULL;
}

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

static void flush_fail(struct flush *f, enum pg_outcome o)
{
    for (size_t i = 0; i < f->n; i++) {
        f->items[i]->cb(f->items[i]->arg, o, NULL);
        pending_free(f->items[i]);
    }
    free(f->items);
    free(f);
}

static void numbers_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct flush *f = arg;
    if (o != PG_OK || (size_t)PQntuples(res) != f->n) {
        flush_fail(f, o == PG_OK ? PG_ERROR : store_outcome(&Q_AGREEMENT_NUMBERS, o, res));
        return;
    }
    int number = store_col(res, "number");
    struct pgarray a[13];
    for (int k = 0; k < 13; k++)
        pgarray_init(&a[k]);
    bool ok = true;
    for (size_t i = 0; i < f->n; i++) {
        struct agreement_rec *r = &f->items[i]->rec;
        const char *num = PQgetvalue(res, (int)i, number);
        char *sent = answer_as_sent(f->q, num, r->answer);
        if (!sent) {
            ok = false;
            break;
        }
        free(r->answer);
        r->answer = sent;
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
        pgarray_add(&a[12], num);
    }
    if (ok) {
        const char *params[13];
        for (int k = 0; k < 13; k++)
            params[k] = pgarray_finish(&a[k]);
        pg_submit(f->q->pool, &Q_AGREEMENT_INSERT_MANY, params, flush_cb, f);
    }
    for (int k = 0; k < 13; k++)
        pgarray_free(&a[k]);
    if (!ok)
        flush_fail(f, PG_ERROR);
}

static void flush_some(struct agreement_queue *q)
{
    size_t n = q->n_pending < FLUSH_MAX ? q->n_pending : FLUSH_MAX;
    metrics_batch(MB_AGREEMENTS, n);
    struct flush *f = xcalloc(1, sizeof *f);
    f->q = q;
    f->items = xcalloc(n, sizeof *f->items);
    for (size_t i = 0; i < n; i++) {
        struct pending *p = TAILQ_FIRST(&q->pending);
        TAILQ_REMOVE(&q->pending, p, link);
        q->n_pending--;
        f->items[f->n++] = p;
    }
    char count[24];
    snprintf(count, sizeof count, "%zu", n);
    const char *params[3];
    numbers_params(q, count, params);
    pg_submit(q->pool, &Q_AGREEMENT_NUMBERS, params, numbers_cb, f);
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

static int strcmp_ptr(const char *const *a, const char *const *b)
{
    return strcmp(*a, *b);
}

/* The *.pem files of dir, sorted by name: the older public keys. */
static bool load_older(struct agreement_queue *q, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        log_error("agreement_public_keys: %s cannot be read", dir);
        return false;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".pem") != 0)
            continue;
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = xasprintf("%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, (int (*)(const void *, const void *))strcmp_ptr);
    bool ok = true;
    q->older = n ? xcalloc(n, sizeof *q->older) : NULL;
    for (size_t i = 0; i < n; i++) {
        char err[512];
        if (ok && !sign_public_load(names[i], q->older[q->n_older].key_id,
                                    q->older[q->n_older].public_key, err, sizeof err)) {
            log_error("agreement_public_keys: %s", err);
            ok = false;
        } else if (ok) {
            q->n_older++;
        }
        free(names[i]);
    }
    free(names);
    return ok;
}

struct agreement_queue *agreements_new(struct event_base *base, struct pg_pool *pool,
                                       const struct config *cfg, bool *key_failed)
{
    *key_failed = false;
    struct agreement_queue *q = xcalloc(1, sizeof *q);
    q->pool = pool;
    TAILQ_INIT(&q->pending);
    if (cfg->agreement_signing_key && cfg->agreement_signing_key[0]) {
        char err[512];
        q->key = sign_key_load(cfg->agreement_signing_key, err, sizeof err);
        if (!q->key) {
            log_error("agreement_signing_key: %s", err);
            *key_failed = true;
        }
    }
    if (!*key_failed && cfg->agreement_public_keys && cfg->agreement_public_keys[0] &&
        !load_older(q, cfg->agreement_public_keys))
        *key_failed = true;
    q->ev_flush = *key_failed ? NULL : event_new(base, -1, 0, flush_event_cb, q);
    if (!q->ev_flush) {
        sign_key_free(q->key);
        free(q->older);
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
    sign_key_free(q->key);
    free(q->older);
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
    struct agreement_queue *q;
    struct agreement_rec rec; /* answer: without number, cap state as it stands */
    int64_t granted, cap;
    int64_t used;   /* what the answer says was used before it */
    char *cap_text; /* the answer's cap state as it stands */
    char number[32];
    int misses;
    agreement_cb cb;
    void *arg;
};

static void capped_free(struct capped_call *c)
{
    free(c->rec.question);
    free(c->rec.answer);
    free(c->cap_text);
    free(c);
}

static void capped_try(struct capped_call *c);

/* The cap state in the answer becomes the one of usage `used`. */
static void capped_restate(struct capped_call *c, int64_t used)
{
    struct cap_state st = {.cap_cents = c->cap,
                           .used_cents = used,
                           .granted_cents = c->granted,
                           .remaining_cents =
                               c->cap - used - c->granted > 0 ? c->cap - used - c->granted : 0};
    char text[160];
    coverage_cap_text("patient_share", &st, text, sizeof text);
    char *at = strstr(c->rec.answer, c->cap_text);
    ASSERT(at != NULL);
    size_t pre = (size_t)(at - c->rec.answer), old = strlen(c->cap_text);
    char *answer = xasprintf("%.*s%s%s", (int)pre, c->rec.answer, text, at + old);
    free(c->rec.answer);
    c->rec.answer = answer;
    free(c->cap_text);
    c->cap_text = xstrdup(text);
    c->used = used;
}

static void capped_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct capped_call *c = arg;
    if (o != PG_OK || PQntuples(res) != 1) {
        c->cb(c->arg, o == PG_OK ? PG_ERROR : store_outcome(&Q_AGREEMENT_INSERT_CAP, o, res), NULL);
        capped_free(c);
        return;
    }
    const char *answer = store_val(res, 0, store_col(res, "answer"));
    if (answer) {
        c->cb(c->arg, PG_OK, answer);
        capped_free(c);
        return;
    }
    /* others took from the cap since we looked: the answer is stated again
     * with the usage as it is now while it still fits, else computed again
     * by the caller */
    const char *now = store_val(res, 0, store_col(res, "used_now"));
    int64_t used = now ? strtoll(now, NULL, 10) : 0;
    if (used + c->granted > c->cap || ++c->misses >= CAS_MAX) {
        c->cb(c->arg, PG_OK, NULL);
        capped_free(c);
        return;
    }
    const char *next = store_val(res, 0, store_col(res, "next_number"));
    ASSERT(next != NULL);
    snprintf(c->number, sizeof c->number, "%s", next);
    log_debug("agreements: the month's cap usage changed (now %lld): the answer is stated again",
              (long long)used);
    capped_restate(c, used);
    capped_try(c);
}

static void capped_try(struct capped_call *c)
{
    char *sent = answer_as_sent(c->q, c->number, c->rec.answer);
    if (!sent) {
        c->cb(c->arg, PG_ERROR, NULL);
        capped_free(c);
        return;
    }
    struct agreement_rec *rec = &c->rec;
    char pid[24], date[PDATE_STRLEN + 1], ver[16], grant[24], limit[24], used[24];
    snprintf(pid, sizeof pid, "%lld", (long long)rec->provider_id);
    date_format(rec->service_date, date);
    snprintf(ver, sizeof ver, "%d", rec->decision_version);
    snprintf(grant, sizeof grant, "%lld", (long long)c->granted);
    snprintf(limit, sizeof limit, "%lld", (long long)c->cap);
    snprintf(used, sizeof used, "%lld", (long long)c->used);
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
                            sent,
                            grant,
                            limit,
                            rec->known_at,
                            used,
                            c->number};
    pg_submit(c->q->pool, &Q_AGREEMENT_INSERT_CAP, params, capped_cb, c);
    free(sent);
}

static void capped_number_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct capped_call *c = arg;
    if (o != PG_OK || PQntuples(res) != 1) {
        c->cb(c->arg, o == PG_OK ? PG_ERROR : store_outcome(&Q_AGREEMENT_NUMBERS, o, res), NULL);
        capped_free(c);
        return;
    }
    snprintf(c->number, sizeof c->number, "%s", PQgetvalue(res, 0, store_col(res, "number")));
    capped_try(c);
}

void db_agreement_record_capped(struct db *db, struct agreement_rec *rec, int64_t granted,
                                int64_t cap, const char *cap_text, agreement_cb cb, void *arg)
{
    struct capped_call *c = xcalloc(1, sizeof *c);
    c->q = db->agreements;
    c->rec = *rec;
    rec->question = rec->answer = NULL;
    c->granted = granted;
    c->cap = cap;
    c->cap_text = xstrdup(cap_text);
    const char *u = strstr(cap_text, "\"used_cents\":");
    ASSERT(u != NULL);
    c->used = strtoll(u + strlen("\"used_cents\":"), NULL, 10);
    c->cb = cb;
    c->arg = arg;
    const char *params[3];
    numbers_params(c->q, "1", params);
    pg_submit(db->pool, &Q_AGREEMENT_NUMBERS, params, capped_number_cb, c);
}

/* ---- the signing keys ---------------------------------------------------------------- */

struct keys_call {
    struct agreement_queue *q;
    agreement_keys_cb cb;
    void *arg;
};

static void keys_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct keys_call call = *(struct keys_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_AGREEMENT_KEYS, o, res), NULL, 0);
        return;
    }
    struct agreement_queue *q = call.q;
    size_t rows = (size_t)PQntuples(res);
    size_t max = rows + q->n_older + 1, n = 0;
    struct agreement_pubkey *k = xcalloc(max, sizeof *k);
    int c_id = store_col(res, "key_id"), c_pub = store_col(res, "public_key"),
        c_from = store_col(res, "valid_from"), c_until = store_col(res, "valid_until");
    for (size_t i = 0; i < rows; i++, n++) {
        snprintf(k[n].key_id, sizeof k[n].key_id, "%s", PQgetvalue(res, (int)i, c_id));
        snprintf(k[n].public_key, sizeof k[n].public_key, "%s", PQgetvalue(res, (int)i, c_pub));
        snprintf(k[n].valid_from, sizeof k[n].valid_from, "%s", PQgetvalue(res, (int)i, c_from));
        const char *until = store_val(res, (int)i, c_until);
        snprintf(k[n].valid_until, sizeof k[n].valid_until, "%s", until ? until : "");
    }
    /* configured keys the database has not seen sign (yet) */
    for (size_t j = 0; j <= q->n_older; j++) {
        const char *id = j < q->n_older ? q->older[j].key_id : q->key ? sign_key_id(q->key) : NULL;
        bool known = !id;
        for (size_t i = 0; !known && i < n; i++)
            known = strcmp(k[i].key_id, id) == 0;
        if (known)
            continue;
        if (j < q->n_older) {
            k[n++] = q->older[j];
        } else {
            snprintf(k[n].key_id, sizeof k[n].key_id, "%s", id);
            snprintf(k[n].public_key, sizeof k[n].public_key, "%s", sign_key_public_b64(q->key));
            n++;
        }
    }
    for (size_t i = 0; i < n; i++)
        k[i].current = q->key && strcmp(k[i].key_id, sign_key_id(q->key)) == 0;
    call.cb(call.arg, PG_OK, k, n);
    free(k);
}

void db_agreement_keys(struct db *db, agreement_keys_cb cb, void *arg)
{
    struct keys_call *call = xmalloc(sizeof *call);
    call->q = db->agreements;
    call->cb = cb;
    call->arg = arg;
    pg_submit(db->pool, &Q_AGREEMENT_KEYS, NULL, keys_cb, call);
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
