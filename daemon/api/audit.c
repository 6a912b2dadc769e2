/*
 * h_audit: auditors (role auditor only).
 *
 * verify walks every hash chain page by page (never the whole trail in
 * memory), recomputing each record's SHA-256 over the previous hash of its
 * chain and the record's canonical text, and checks each chain against its
 * head, so a removed tail is noticed too; the answer's last_hash is an
 * anchor over all heads, to keep outside the registry. consultations and decisions answer one page
 * ({"items","next_cursor"}) or, with Accept: application/x-ndjson, stream
 * every match a page at a time, fetching the next page only when the
 * client has read the previous one. coverage-as-of recomputes an answer
 * from the versions recorded at or before a moment.
 */
#include "api/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "proto/audit_query.h"
#include "proto/coverage.h"
#include "api/common.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "db/audit.h"

#define VERIFY_PAGE 2000
#define STREAM_PAGE 500

/* ---- verify ------------------------------------------------------------------ */

#define MAX_CHAINS 64

struct chain_head {
    long long chain_seq; /* records in the chain when the walk began */
    long long seq;       /* the global number of its last record */
    char hash[65];
};

struct verify {
    struct request *r;
    int n_chains;
    struct chain_head heads[MAX_CHAINS];
    char anchor[65]; /* SHA-256 over every head's hash, in chain order */
    long long last_seq;
    long long records; /* checked */
    int chain;         /* the chain being walked */
    long long chain_seq;
    char hash[65];  /* hash of the last record checked in this chain */
    bool head_seen; /* this chain passed its head with the head's hash */
};

static void verify_page(struct verify *v);

static void verify_answer(struct verify *v, long long broken_at, int chain, const char *reason)
{
    struct request *r = v->r;
    size_t cap = 400 + (size_t)v->n_chains * 140;
    char *body = xmalloc(cap);
    if (!reason) {
        /* the heads the walk was checked against: with the anchor, what to
         * keep outside the registry to check later that nothing before them
         * was rewritten */
        size_t o = (size_t)snprintf(body, cap,
                                    "{\"intact\":true,\"records\":%lld,\"last_seq\":%lld,"
                                    "\"last_hash\":\"%s\",\"chains\":%d,\"heads\":[",
                                    v->records, v->last_seq, v->anchor, v->n_chains);
        for (int i = 0; i < v->n_chains && o < cap; i++)
            o += (size_t)snprintf(body + o, cap - o,
                                  "%s{\"chain\":%d,\"chain_seq\":%lld,\"seq\":%lld,"
                                  "\"hash\":\"%s\"}",
                                  i ? "," : "", i, v->heads[i].chain_seq, v->heads[i].seq,
                                  v->heads[i].hash);
        if (o < cap)
            snprintf(body + o, cap - o, "]}");
    } else {
        snprintf(body, cap,
                 "{\"intact\":false,\"records_checked\":%lld,\"broken_at\":%lld,\"chain\":%d,"
                 "\"reason\":\"%s\"}",
                 v->records, broken_at, chain, reason);
    }
    if (reason)
        log_ctx(LOG_WARN, request_log_prefix(r), "audit chain %d broken at record %lld (%s)", chain,
                broken_at, reason);
    free(v);
    request_json(r, 200, body);
}

/* The walk left chain v->chain (or never entered it): it must have reached
 * its head. Returns false when it answered (broken). */
static bool chain_done(struct verify *v)
{
    const struct chain_head *h = &v->heads[v->chain];
    if (v->chain_seq < h->chain_seq) {
        /* its last records are missing */
        verify_answer(v, h->seq, v->chain, "gap");
        return false;
    }
    if (h->chain_seq > 0 && !v->head_seen) {
        verify_answer(v, h->seq, v->chain, "hash_mismatch");
        return false;
    }
    return true;
}

static void enter_chain(struct verify *v, int chain)
{
    v->chain = chain;
    v->chain_seq = 0;
    memset(v->hash, '0', 64); /* every chain starts from 64 zeros */
    v->hash[64] = '\0';
    v->head_seen = false;
}

static void page_cb(void *arg, enum pg_outcome o, const struct audit_record *rec, size_t n)
{
    struct verify *v = arg;
    if (o != PG_OK) {
        struct request *r = v->r;
        free(v);
        api_db_error(r, o);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        long long seq = rec[i].seq;
        int chain = rec[i].chain;
        long long chain_seq = rec[i].chain_seq;
        if (chain < 0 || chain >= v->n_chains) {
            verify_answer(v, seq, chain, "gap");
            return;
        }
        while (chain != v->chain) {
            if (!chain_done(v))
                return;
            enter_chain(v, v->chain + 1);
        }
        if (chain_seq != v->chain_seq + 1) {
            verify_answer(v, seq, chain, "gap");
            return;
        }
        if (strcmp(rec[i].prev_hash, v->hash) != 0) {
            verify_answer(v, seq, chain, "link_mismatch");
            return;
        }
        char computed[SHA256_HEX_LEN + 1];
        sha256_hex2(v->hash, 64, rec[i].canonical, rec[i].canonical_len, computed);
        if (strcmp(computed, rec[i].hash) != 0) {
            verify_answer(v, seq, chain, "hash_mismatch");
            return;
        }
        if (chain_seq == v->heads[chain].chain_seq) {
            /* records may be added while we walk: the head read at the start
             * must be on the chain */
            if (strcmp(computed, v->heads[chain].hash) != 0) {
                verify_answer(v, seq, chain, "hash_mismatch");
                return;
            }
            v->head_seen = true;
        }
        v->chain_seq = chain_seq;
        memcpy(v->hash, computed, sizeof v->hash);
        v->records++; /* records_checked: those before a broken one */
    }
    if (n == VERIFY_PAGE) {
        verify_page(v);
        return;
    }
    for (;;) {
        if (!chain_done(v))
            return;
        if (v->chain + 1 >= v->n_chains)
            break;
        enter_chain(v, v->chain + 1);
    }
    verify_answer(v, 0, 0, NULL);
}

static void verify_page(struct verify *v)
{
    db_audit_page(request_db(v->r), v->chain, v->chain_seq, VERIFY_PAGE, page_cb, v);
}

static void head_cb(void *arg, enum pg_outcome o, const struct audit_head *h, size_t n)
{
    struct verify *v = arg;
    if (o != PG_OK || n < 1 || n > MAX_CHAINS) {
        struct request *r = v->r;
        free(v);
        api_db_error(r, o == PG_OK ? PG_ERROR : o);
        return;
    }
    char all[MAX_CHAINS * 64 + 1];
    size_t al = 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i].chain != (int)i) {
            struct request *r = v->r;
            free(v);
            request_problem(r, PROBLEM_INTERNAL_ERROR, "the audit chain heads are not 0..n-1", NULL,
                            NULL);
            return;
        }
        struct chain_head *ch = &v->heads[i];
        ch->chain_seq = h[i].chain_seq;
        ch->seq = h[i].seq;
        snprintf(ch->hash, sizeof ch->hash, "%s", h[i].hash);
        if (ch->seq > v->last_seq)
            v->last_seq = ch->seq;
        memcpy(all + al, ch->hash, 64);
        al += 64;
    }
    v->n_chains = (int)n;
    sha256_hex(all, al, v->anchor);
    enter_chain(v, 0);
    verify_page(v);
}

void h_audit_verify(struct request *r)
{
    struct verify *v = xcalloc(1, sizeof *v);
    v->r = r;
    db_audit_heads(request_db(r), head_cb, v);
}

/* ---- lists: one page, or a stream -------------------------------------------- */

enum list_kind { LIST_CONSULTATIONS, LIST_DECISIONS };

struct list {
    struct request *r;
    enum list_kind kind;
    bool stream;
    int limit;
    char *params[8];    /* filters (NULL: none), owned, in the order of the
                         * members of consultation_filter / decision_filter */
    char cursor[3][80]; /* consultations: [0]; decisions: ts, id, version */
    bool has_cursor;
};

static void list_free(struct list *l)
{
    for (int i = 0; i < 8; i++)
        free(l->params[i]);
    free(l);
}

static void list_fetch(struct list *l);

static void list_stream_error(struct list *l, enum pg_outcome o)
{
    /* the status is sent already: the last line says what went wrong */
    char line[256];
    snprintf(line, sizeof line,
             "{\"error\":{\"code\":\"%s\",\"status\":%d,\"detail\":\"the list is incomplete\"}}\n",
             pg_outcome_transient(o) ? "database_unavailable" : "internal_error",
             pg_outcome_transient(o) ? 503 : 500);
    request_stream_write(l->r, line, strlen(line));
    request_stream_end(l->r);
    list_free(l);
}

static void remember_cursor(struct list *l, const struct audit_item *it)
{
    for (int k = 0; k < (l->kind == LIST_CONSULTATIONS ? 1 : 3); k++)
        snprintf(l->cursor[k], sizeof l->cursor[k], "%s", it->cursor[k]);
    l->has_cursor = true;
}

static void drained(void *arg)
{
    struct list *l = arg;
    if (request_stream_gone(l->r)) {
        request_stream_end(l->r);
        list_free(l);
        return;
    }
    list_fetch(l);
}

static void page_rows_cb(void *arg, enum pg_outcome o, const struct audit_item *items, size_t n)
{
    struct list *l = arg;
    struct request *r = l->r;
    if (!l->stream) {
        if (o == PG_INVALID) {
            list_free(l);
            request_problem(r, PROBLEM_INVALID_PARAMETER, "a filter is not a valid value", NULL,
                            NULL);
            return;
        }
        if (o != PG_OK) {
            list_free(l);
            api_db_error(r, o);
            return;
        }
        size_t total = 64;
        for (size_t i = 0; i < n; i++)
            total += items[i].len + 1;
        char cur[256] = "";
        if (n == (size_t)l->limit) {
            remember_cursor(l, &items[n - 1]);
            if (l->kind == LIST_CONSULTATIONS)
                snprintf(cur, sizeof cur, "\"%s\"", l->cursor[0]);
            else
                snprintf(cur, sizeof cur, "\"%s~%s~%s\"", l->cursor[0], l->cursor[1], l->cursor[2]);
        }
        total += strlen(cur) + 8;
        char *out = xmalloc(total);
        size_t w = (size_t)snprintf(out, total, "{\"items\":[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                out[w++] = ',';
            memcpy(out + w, items[i].json, items[i].len);
            w += items[i].len;
        }
        snprintf(out + w, total - w, "],\"next_cursor\":%s}", cur[0] ? cur : "null");
        list_free(l);
        request_json(r, 200, out);
        return;
    }
    if (request_stream_gone(r)) {
        request_stream_end(r);
        list_free(l);
        return;
    }
    if (o != PG_OK) {
        list_stream_error(l, o);
        return;
    }
    for (size_t i = 0; i < n; i++)
        request_stream_line(r, items[i].json, items[i].len);
    if (n < STREAM_PAGE) {
        request_stream_end(r);
        list_free(l);
        return;
    }
    remember_cursor(l, &items[n - 1]);
    if (request_stream_room(r))
        list_fetch(l);
    else
        request_stream_on_drain(r, drained, l); /* the client reads first */
}

static void list_fetch(struct list *l)
{
    int limit = l->stream ? STREAM_PAGE : l->limit;
    char *const *p = l->params;
    if (l->kind == LIST_CONSULTATIONS) {
        struct consultation_filter f = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
        db_audit_consultations(request_db(l->r), &f, l->has_cursor ? l->cursor[0] : NULL, limit,
                               page_rows_cb, l);
    } else {
        struct decision_filter f = {p[0], p[1], p[2], p[3]};
        const char *after[] = {l->cursor[0], l->cursor[1], l->cursor[2]};
        db_audit_decisions(request_db(l->r), &f, l->has_cursor ? after : NULL, limit, page_rows_cb,
                           l);
    }
}

/* ---- parameters ---------------------------------------------------------------- */

/* Check the query for kind (proto/audit_query.c; the router already refused
 * unknown and repeated names) into *q; false when it answered the problem. */
static bool query_parse(struct request *r, enum audit_query_kind kind, struct audit_query *q)
{
    struct audit_param pairs[AUDIT_QUERY_MAX_NAMES];
    size_t n = 0;
    const char *name;
    for (size_t i = 0; (name = audit_query_name(kind, i)) != NULL; i++) {
        const char *v = request_query(r, name);
        if (v)
            pairs[n++] = (struct audit_param){name, v};
    }
    struct verrs e;
    verrs_init(&e);
    enum problem p;
    const char *detail;
    if (audit_query_parse(kind, pairs, n, q, &e, &p, &detail))
        return true;
    request_problem(r, p, detail, &e, NULL);
    return false;
}

static bool wants_ndjson(struct request *r)
{
    const char *a = request_header(r, "Accept");
    return a && strstr(a, "application/x-ndjson") != NULL;
}

static void list_start(struct request *r, enum list_kind kind)
{
    struct audit_query q;
    if (!query_parse(r, kind == LIST_CONSULTATIONS ? AQ_CONSULTATIONS : AQ_DECISIONS, &q))
        return;
    struct list *l = xcalloc(1, sizeof *l);
    l->r = r;
    l->kind = kind;
    l->stream = wants_ndjson(r);
    l->limit = q.limit;
    _Static_assert(sizeof l->params / sizeof l->params[0] >= AUDIT_QUERY_MAX_PARAMS,
                   "a filter per parameter");
    for (int i = 0; i < q.n_params; i++)
        l->params[i] = q.param[i] ? xstrdup(q.param[i]) : NULL;
    _Static_assert(sizeof l->cursor == sizeof q.cursor, "the cursor as audit_query keeps it");
    memcpy(l->cursor, q.cursor, sizeof l->cursor);
    l->has_cursor = q.has_cursor;
    if (l->stream) {
        l->has_cursor = false; /* a stream is the whole list */
        request_stream_begin(r, 200, "application/x-ndjson");
    }
    list_fetch(l);
}

void h_audit_consultations(struct request *r)
{
    list_start(r, LIST_CONSULTATIONS);
}

void h_audit_decisions(struct request *r)
{
    list_start(r, LIST_DECISIONS);
}

/* ---- as of ---------------------------------------------------------------------- */

struct as_of {
    struct request *r;
    struct coverage_question q;
    char provider[16];
    struct as_of_facts facts;
};

static void as_of_cb(void *arg, enum pg_outcome o)
{
    struct as_of *a = arg;
    struct request *r = a->r;
    if (o == PG_INVALID) {
        free(a);
        request_problem(r, PROBLEM_INVALID_PARAMETER, "a parameter is not a valid value", NULL,
                        NULL);
        return;
    }
    if (o != PG_OK) {
        free(a);
        api_db_error(r, o);
        return;
    }
    struct coverage_result *res = xcalloc(1, sizeof *res);
    coverage_evaluate(&a->q, a->facts.decisions, a->facts.n, a->provider[0] ? a->provider : NULL,
                      a->facts.today, res);
    /* without a provider, the designation of providers is not judged */
    if (!a->provider[0] && res->reason == RF_PROVIDER_NOT_DESIGNATED)
        res->reason = RF_NONE;
    char *text = coverage_encode_answer(&a->q, res, request_lang(r));
    ASSERT(text != NULL);
    char *out = xasprintf("{\"known_at\":\"%s\",%s", a->facts.known_at, text + 1);
    free(text);
    free(res);
    as_of_facts_free(&a->facts);
    free(a);
    request_json(r, 200, out);
}

void h_audit_as_of(struct request *r)
{
    struct audit_query q;
    if (!query_parse(r, AQ_AS_OF, &q))
        return;
    struct as_of *a = xcalloc(1, sizeof *a);
    a->r = r;
    snprintf(a->q.ssin, sizeof a->q.ssin, "%s", q.param[AQA_SSIN]);
    a->q.ssin_valid = true;
    a->q.service_date = q.service_date;
    a->q.care_type = q.care_type;
    if (q.param[AQA_PROVIDER])
        snprintf(a->provider, sizeof a->provider, "%s", q.param[AQA_PROVIDER]);
    db_audit_as_of(request_db(r), a->q.ssin, a->q.service_date, q.param[AQA_KNOWN_AT], &a->facts,
                   as_of_cb, a);
}
