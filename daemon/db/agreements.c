/*
 * agreements: group commit of coverage answers.
 *
 * agreements_record appends to the worker's pending list and activates a
 * flush event; libevent runs it after the callbacks already active in this
 * turn, so everything answered in the same turn goes out in one
 * Q_AGREEMENT_INSERT_MANY (at most FLUSH_MAX rows per statement), answers
 * under a monthly patient-share cap included; while a flush is in flight
 * (FLUSH_INFLIGHT_MAX), what is answered meanwhile waits for the next one.
 * Before it, one Q_AGREEMENT_NUMBERS takes their numbers (and records the
 * signing key), so that each answer is numbered and signed here, as it is
 * stored and sent: the signature covers the whole answer, the cap's state
 * too (what was used before it). The statement records a capped answer only
 * if that usage is still the month's at its turn (schema/014: caps are
 * allocated by person, month and care type, then by arrival); one that finds
 * it changed is stated again with the usage as it is now, while what it
 * grants still fits, and goes first in the next flush (numbered and signed
 * again), else its caller computes it again. Capped answers of one flush
 * that share a month's cap are chained before it (chain_caps), so that they
 * are recorded together.
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
/* Capped answers per statement: each takes its person's advisory lock until the
 * commit, and PostgreSQL's lock table holds max_locks_per_transaction (64) times
 * max_connections locks in all, shared by every connection of every instance; at
 * 128 a statement's locks stay a small part of it even with 32 flushes at once. */
#define FLUSH_CAPPED_MAX 128
#define CAS_MAX          1000 /* a capped answer recomputed because others took from the cap */
/* Flushes in flight per worker. What is answered while one is in flight waits
 * for it and goes in the next, as one statement and one commit: the per-flush
 * work (numbering, the audit head, the commit's WAL flush) is shared by more
 * answers. Measured on 2 cores at 64 connections (docs/performance.md): one in
 * flight gave 26-38 % more answers/s than no limit, and more than two. */
#define FLUSH_INFLIGHT_MAX 1

struct pending {
    TAILQ_ENTRY(pending) link;
    struct agreement_rec rec; /* answer: without its number */
    char *sent;               /* numbered and signed, for the flush in flight */
    agreement_cb cb;
    void *arg;
    /* an answer under a monthly patient-share cap */
    bool capped;
    int64_t granted, cap;
    int64_t used;   /* what the answer says was used before it */
    char *cap_text; /* the answer's cap state as it stands */
    int misses;     /* times a flush found the month's usage changed */
    bool has_after;
    int64_t after; /* the month's usage after the flush it was in */
};
TAILQ_HEAD(pending_list, pending);

struct flush {
    TAILQ_ENTRY(flush) link;
    struct agreement_queue *q;
    size_t n;
    struct pending **items;
    struct pending **caps; /* its capped items, by month's cap then arrival */
    size_t n_caps;
};
TAILQ_HEAD(flush_list, flush);

struct agreement_queue {
    struct pg_pool *pool;
    struct event *ev_flush;
    struct pending_list pending;
    size_t n_pending;
    bool scheduled;             /* ev_flush is active */
    struct flush_list inflight; /* flushes sent, not answered yet */
    size_t n_inflight;
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
    free(p->sent);
    free(p->cap_text);
    free(p);
}

static void schedule(struct agreement_queue *q)
{
    if (!q->scheduled) {
        q->scheduled = true;
        event_active(q->ev_flush, EV_READ, 0);
    }
}

/* The cap state in p's answer becomes the one of usage `used` (what it
 * grants stays: it still fits). */
static void capped_restate(struct pending *p, int64_t used)
{
    if (used == p->used)
        return;
    struct cap_state st = {.cap_cents = p->cap,
                           .used_cents = used,
                           .granted_cents = p->granted,
                           .remaining_cents =
                               p->cap - used - p->granted > 0 ? p->cap - used - p->granted : 0};
    char text[160];
    coverage_cap_text("patient_share", &st, text, sizeof text);
    char *at = strstr(p->rec.answer, p->cap_text);
    ASSERT(at != NULL);
    size_t pre = (size_t)(at - p->rec.answer), old = strlen(p->cap_text);
    char *answer = xasprintf("%.*s%s%s", (int)pre, p->rec.answer, text, at + old);
    free(p->rec.answer);
    p->rec.answer = answer;
    free(p->cap_text);
    p->cap_text = xstrdup(text);
    p->used = used;
}

/* Capped answers of one flush, by the month's cap they take from, then by
 * arrival: the order agreement_record_many (schema/014) allocates in. */
static int cap_order(const void *a, const void *b)
{
    const struct pending *x = *(struct pending *const *)a, *y = *(struct pending *const *)b;
    int c = strcmp(x->rec.ssin, y->rec.ssin);
    if (c)
        return c;
    int xy, xm, yy, ym, dd;
    date_to_ymd(x->rec.service_date, &xy, &xm, &dd);
    date_to_ymd(y->rec.service_date, &yy, &ym, &dd);
    if (xy * 12 + xm != yy * 12 + ym)
        return xy * 12 + xm < yy * 12 + ym ? -1 : 1;
    if (x->rec.care_type != y->rec.care_type)
        return x->rec.care_type < y->rec.care_type ? -1 : 1;
    return 0; /* qsort is not stable: the caller sorts (ssin, month, care, index) pairs */
}

struct cap_slot {
    struct pending *p;
    size_t index; /* arrival within the flush */
};

static int slot_order(const void *a, const void *b)
{
    const struct cap_slot *x = a, *y = b;
    int c = cap_order(&x->p, &y->p);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

static bool same_month_cap(const struct pending *x, const struct pending *y)
{
    return cap_order(&x, &y) == 0;
}

/* Several capped answers of one flush that take from the same month's cap
 * were mostly computed from the same usage: each after the first is stated
 * with the usage the ones before it leave (while what it grants still
 * fits), so that they can all be recorded in this flush. The database
 * checks every one of them again under the person's lock. */
static void chain_caps(struct flush *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += f->items[i]->capped;
    if (n == 0)
        return;
    struct cap_slot *s = xcalloc(n, sizeof *s);
    for (size_t i = 0, k = 0; i < f->n; i++)
        if (f->items[i]->capped)
            s[k++] = (struct cap_slot){f->items[i], i};
    qsort(s, n, sizeof *s, slot_order);
    f->caps = xcalloc(n, sizeof *f->caps);
    f->n_caps = n;
    for (size_t k = 0; k < n; k++)
        f->caps[k] = s[k].p;
    int64_t run = 0;
    for (size_t k = 0; k < n; k++) {
        struct pending *p = s[k].p;
        if (k == 0 || !same_month_cap(s[k - 1].p, p)) {
            run = p->used + p->granted;
            continue;
        }
        if (run + p->granted > p->cap)
            continue; /* it no longer fits: the database refuses it, it is computed again */
        capped_restate(p, run);
        run += p->granted;
    }
    free(s);
}

/* A capped answer waits while a flush of this queue that takes from the
 * same month's cap is in flight: it is stated with the usage that flush
 * leaves (settle_held), not with one that flush is about to change. */
static bool held(const struct agreement_queue *q, const struct pending *p)
{
    const struct flush *f;
    TAILQ_FOREACH(f, &q->inflight, link)
    if (f->n_caps && bsearch(&p, f->caps, f->n_caps, sizeof *f->caps, cap_order))
        return true;
    return false;
}

/* f, out of the queue's in flight list, ends */
static void flush_done(struct flush *f)
{
    free(f->caps);
    free(f->items);
    free(f);
}

/* The capped answers that waited for flush f: stated with the usage it
 * left while what they grant still fits, else computed again. */
static size_t settle_held(struct flush *f)
{
    struct agreement_queue *q = f->q;
    size_t recomputed = 0;
    struct pending *h, *next;
    for (h = TAILQ_FIRST(&q->pending); h; h = next) {
        next = TAILQ_NEXT(h, link);
        if (!h->capped)
            continue;
        struct pending **m = bsearch(&h, f->caps, f->n_caps, sizeof *f->caps, cap_order);
        if (!m || !(*m)->has_after || (*m)->after == h->used)
            continue;
        if ((*m)->after + h->granted <= h->cap) {
            capped_restate(h, (*m)->after);
            continue;
        }
        TAILQ_REMOVE(&q->pending, h, link);
        q->n_pending--;
        recomputed++;
        h->cb(h->arg, PG_OK, NULL);
        pending_free(h);
    }
    return recomputed;
}

static void flush_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct flush *f = arg;
    struct agreement_queue *q = f->q;
    TAILQ_REMOVE(&q->inflight, f, link);
    q->n_inflight--;
    bool ok = o == PG_OK && (size_t)PQntuples(res) == f->n;
    if (o == PG_OK && !ok)
        log_error("agreements: %zu rows for %zu answers", (size_t)PQntuples(res), f->n);
    o = store_outcome(&Q_AGREEMENT_INSERT_MANY, o, res);
    int c_answer = ok ? store_col(res, "answer") : -1;
    int c_used = ok ? store_col(res, "used_now") : -1;
    struct pending_list again = TAILQ_HEAD_INITIALIZER(again);
    size_t recorded = 0, capped = 0, restated = 0, recomputed = 0;
    if (ok && f->n_caps) {
        for (size_t i = 0; i < f->n; i++) {
            const char *now = store_val(res, (int)i, c_used);
            f->items[i]->has_after = now != NULL;
            f->items[i]->after = now ? strtoll(now, NULL, 10) : 0;
        }
        recomputed += settle_held(f);
    }
    for (size_t i = 0; i < f->n; i++) {
        struct pending *p = f->items[i];
        if (!ok) {
            p->cb(p->arg, o == PG_OK ? PG_ERROR : o, NULL);
            pending_free(p);
            continue;
        }
        /* rows come ordered by ordinal: row i is item i */
        const char *answer = store_val(res, (int)i, c_answer);
        if (answer) {
            recorded++;
            capped += p->capped;
            p->cb(p->arg, PG_OK, answer);
            pending_free(p);
            continue;
        }
        const char *now = store_val(res, (int)i, c_used);
        if (!p->capped || !now) {
            log_error("agreements: an answer without a cap was not recorded");
            p->cb(p->arg, PG_ERROR, NULL);
            pending_free(p);
            continue;
        }
        /* others took from the cap since the answer was computed: it is
         * stated again with the usage as it is now while it still fits and
         * goes in the next flush, else it is computed again by the caller */
        int64_t used = strtoll(now, NULL, 10);
        if (used + p->granted > p->cap || ++p->misses >= CAS_MAX) {
            recomputed++;
            p->cb(p->arg, PG_OK, NULL);
            pending_free(p);
            continue;
        }
        restated++;
        capped_restate(p, used);
        free(p->sent);
        p->sent = NULL;
        TAILQ_INSERT_TAIL(&again, p, link);
    }
    if (ok) {
        metrics_add(MC_AUDIT_CONSULTATIONS, recorded);
        metrics_add(MC_CAPPED_RECORDED, capped);
        metrics_add(MC_CAPPED_RESTATED, restated);
        metrics_add(MC_CAPPED_RECOMPUTED, recomputed);
        if (capped)
            metrics_inc(MC_CAPPED_FLUSHES);
        log_debug("agreements: a group commit recorded %zu answers, %zu of them capped; "
                  "%zu capped stated again, %zu computed again",
                  recorded, capped, restated, recomputed);
    }
    /* the ones stated again go first in the next flush, in their order */
    struct pending *p;
    while ((p = TAILQ_LAST(&again, pending_list))) {
        TAILQ_REMOVE(&again, p, link);
        TAILQ_INSERT_HEAD(&q->pending, p, link);
        q->n_pending++;
    }
    flush_done(f);
    if (q->n_pending > 0)
        schedule(q);
}

static void flush_fail(struct flush *f, enum pg_outcome o)
{
    struct agreement_queue *q = f->q;
    TAILQ_REMOVE(&q->inflight, f, link);
    q->n_inflight--;
    for (size_t i = 0; i < f->n; i++) {
        f->items[i]->cb(f->items[i]->arg, o, NULL);
        pending_free(f->items[i]);
    }
    flush_done(f);
    if (q->n_pending > 0)
        schedule(q);
}

#define N_COLS 16

static void numbers_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct flush *f = arg;
    if (o != PG_OK || (size_t)PQntuples(res) != f->n) {
        flush_fail(f, o == PG_OK ? PG_ERROR : store_outcome(&Q_AGREEMENT_NUMBERS, o, res));
        return;
    }
    int number = store_col(res, "number");
    struct pgarray a[N_COLS];
    for (int k = 0; k < N_COLS; k++)
        pgarray_init(&a[k]);
    bool ok = true;
    for (size_t i = 0; i < f->n; i++) {
        struct pending *p = f->items[i];
        struct agreement_rec *r = &p->rec;
        const char *num = PQgetvalue(res, (int)i, number);
        free(p->sent);
        p->sent = answer_as_sent(f->q, num, r->answer);
        if (!p->sent) {
            ok = false;
            break;
        }
        char pid[24], date[PDATE_STRLEN + 1], ver[16], grant[24], limit[24], used[24];
        snprintf(pid, sizeof pid, "%lld", (long long)r->provider_id);
        date_format(r->service_date, date);
        snprintf(ver, sizeof ver, "%d", r->decision_version);
        snprintf(grant, sizeof grant, "%lld", (long long)p->granted);
        snprintf(limit, sizeof limit, "%lld", (long long)p->cap);
        snprintf(used, sizeof used, "%lld", (long long)p->used);
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
        pgarray_add(&a[10], p->sent);
        pgarray_add(&a[11], r->known_at[0] ? r->known_at : NULL);
        pgarray_add(&a[12], num);
        pgarray_add(&a[13], p->capped ? grant : NULL);
        pgarray_add(&a[14], p->capped ? limit : NULL);
        pgarray_add(&a[15], p->capped ? used : NULL);
    }
    if (ok) {
        const char *params[N_COLS];
        for (int k = 0; k < N_COLS; k++)
            params[k] = pgarray_finish(&a[k]);
        pg_submit(f->q->pool, &Q_AGREEMENT_INSERT_MANY, params, flush_cb, f);
    }
    for (int k = 0; k < N_COLS; k++)
        pgarray_free(&a[k]);
    if (!ok)
        flush_fail(f, PG_ERROR);
}

/* One flush of what is pending and not held; false when nothing was. */
static bool flush_some(struct agreement_queue *q)
{
    size_t max = q->n_pending < FLUSH_MAX ? q->n_pending : FLUSH_MAX;
    struct flush *f = xcalloc(1, sizeof *f);
    f->q = q;
    f->items = xcalloc(max, sizeof *f->items);
    struct pending *p, *next;
    size_t n_capped = 0;
    for (p = TAILQ_FIRST(&q->pending); p && f->n < max; p = next) {
        next = TAILQ_NEXT(p, link);
        if (p->capped && (n_capped >= FLUSH_CAPPED_MAX || held(q, p)))
            continue;
        n_capped += p->capped;
        TAILQ_REMOVE(&q->pending, p, link);
        q->n_pending--;
        f->items[f->n++] = p;
    }
    if (f->n == 0) {
        free(f->items);
        free(f);
        return false;
    }
    size_t n = f->n;
    metrics_batch(MB_AGREEMENTS, n);
    chain_caps(f);
    TAILQ_INSERT_TAIL(&q->inflight, f, link);
    q->n_inflight++;
    char count[24];
    snprintf(count, sizeof count, "%zu", n);
    const char *params[3];
    numbers_params(q, count, params);
    pg_submit(q->pool, &Q_AGREEMENT_NUMBERS, params, numbers_cb, f);
    return true;
}

static void flush_event_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct agreement_queue *q = arg;
    q->scheduled = false;
    while (q->n_inflight < FLUSH_INFLIGHT_MAX && q->n_pending > 0 && flush_some(q))
        ;
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
    TAILQ_INIT(&q->inflight);
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
    /* flushes still in flight are never answered now (the pool goes next) */
    struct flush *f;
    while ((f = TAILQ_FIRST(&q->inflight))) {
        TAILQ_REMOVE(&q->inflight, f, link);
        for (size_t i = 0; i < f->n; i++)
            pending_free(f->items[i]);
        flush_done(f);
    }
    event_free(q->ev_flush);
    sign_key_free(q->key);
    free(q->older);
    free(q);
}

static void enqueue(struct agreement_queue *q, struct pending *p)
{
    TAILQ_INSERT_TAIL(&q->pending, p, link);
    q->n_pending++;
    schedule(q);
}

void db_agreement_record(struct db *db, struct agreement_rec *rec, agreement_cb cb, void *arg)
{
    struct pending *p = xcalloc(1, sizeof *p);
    p->rec = *rec;
    p->cb = cb;
    p->arg = arg;
    enqueue(db->agreements, p);
}

void db_agreement_record_capped(struct db *db, struct agreement_rec *rec, int64_t granted,
                                int64_t cap, const char *cap_text, agreement_cb cb, void *arg)
{
    struct pending *p = xcalloc(1, sizeof *p);
    p->rec = *rec;
    rec->question = rec->answer = NULL;
    p->cb = cb;
    p->arg = arg;
    p->capped = true;
    p->granted = granted;
    p->cap = cap;
    p->cap_text = xstrdup(cap_text);
    const char *u = strstr(cap_text, "\"used_cents\":");
    ASSERT(u != NULL);
    p->used = strtoll(u + strlen("\"used_cents\":"), NULL, 10);
    enqueue(db->agreements, p);
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
