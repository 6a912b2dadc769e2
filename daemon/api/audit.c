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
#include "api/reads.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "db/audit.h"
#include "db/checkpoint.h"

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
    struct db *db; /* every read of the walk from one database */
    int n_chains;
    struct chain_head heads[MAX_CHAINS];
    char anchor[65]; /* SHA-256 over every head's hash, in chain order */
    long long last_seq;
    long long records; /* checked */
    int chain;         /* the chain being walked */
    long long chain_seq;
    char hash[65];  /* hash of the last record checked in this chain */
    bool head_seen; /* this chain passed its head with the head's hash */
    /* a saved checkpoint to check against (POST): each chain must still hold
     * the anchored record with the anchored hash */
    bool anchored;
    int anchor_n;
    struct checkpoint_head anchor_heads[MAX_CHAINS];
    char anchor_created[48];
    /* a version or agreement without exactly one record */
    char missing_kind[24], missing_object[48];
    long long missing_records;
};

static void verify_page(struct verify *v);
static void verify_complete(struct verify *v);

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
            o += (size_t)snprintf(body + o, cap - o, "]");
        if (v->anchored && o < cap)
            o += (size_t)snprintf(body + o, cap - o,
                                  ",\"anchor\":{\"created_at\":\"%s\",\"chains\":%d}",
                                  v->anchor_created, v->anchor_n);
        if (o < cap)
            snprintf(body + o, cap - o, "}");
    } else if (v->missing_object[0]) {
        snprintf(body, cap,
                 "{\"intact\":false,\"records_checked\":%lld,\"broken_at\":0,\"chain\":-1,"
                 "\"reason\":\"%s\",\"kind\":\"%s\",\"object\":\"%s\",\"records\":%lld}",
                 v->records, reason, v->missing_kind, v->missing_object, v->missing_records);
    } else {
        snprintf(body, cap,
                 "{\"intact\":false,\"records_checked\":%lld,\"broken_at\":%lld,\"chain\":%d,"
                 "\"reason\":\"%s\"}",
                 v->records, broken_at, chain, reason);
    }
    if (reason && v->missing_object[0])
        log_ctx(LOG_WARN, request_log_prefix(r), "audit trail: %s %s has %lld record(s)",
                v->missing_kind, v->missing_object, v->missing_records);
    else if (reason)
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
    if (v->anchored && v->chain_seq < v->anchor_heads[v->chain].chain_seq) {
        /* the chain ends before the record the checkpoint signed: its tail
         * was cut off and its head moved back */
        verify_answer(v, v->anchor_heads[v->chain].seq, v->chain, "behind_anchor");
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
        if (v->anchored && chain_seq == v->anchor_heads[chain].chain_seq &&
            strcmp(computed, v->anchor_heads[chain].hash) != 0) {
            verify_answer(v, seq, chain, "anchor_mismatch");
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
    verify_complete(v);
}

static void verify_page(struct verify *v)
{
    db_audit_page(v->db, v->chain, v->chain_seq, VERIFY_PAGE, page_cb, v);
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
    if (v->anchored && v->anchor_n != v->n_chains) {
        verify_answer(v, 0, v->anchor_n < v->n_chains ? v->anchor_n : v->n_chains, "anchor_chains");
        return;
    }
    enter_chain(v, 0);
    verify_page(v);
}

void h_audit_verify(struct request *r)
{
    struct verify *v = xcalloc(1, sizeof *v);
    v->r = r;
    v->db = api_auditor_db(r);
    db_audit_heads(v->db, head_cb, v);
}

/* The chains are intact: every decision version and agreement must also
 * have exactly one record of its own (a record removed together with its
 * chain's tail, or never written, is found here). */
static void missing_cb(void *arg, enum pg_outcome o, const char *kind, const char *object,
                       int64_t records)
{
    struct verify *v = arg;
    if (o != PG_OK) {
        struct request *r = v->r;
        free(v);
        api_db_error(r, o);
        return;
    }
    if (object) {
        snprintf(v->missing_kind, sizeof v->missing_kind, "%s", kind);
        snprintf(v->missing_object, sizeof v->missing_object, "%s", object);
        v->missing_records = records;
        verify_answer(v, 0, -1, records == 0 ? "missing_record" : "extra_record");
        return;
    }
    verify_answer(v, 0, 0, NULL);
}

static void verify_complete(struct verify *v)
{
    db_audit_missing(v->db, missing_cb, v);
}

/* ---- checkpoints ------------------------------------------------------------ */

static bool checkpoints_on(struct request *r)
{
    if (db_checkpoints_enabled(request_db(r)))
        return true;
    request_problem(r, PROBLEM_CHECKPOINTS_DISABLED,
                    "this registry has no audit_signing_key: it makes no checkpoints", NULL, NULL);
    return false;
}

static bool is_hex64(const char *s)
{
    if (!s || strlen(s) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool json_int(const cJSON *o, const char *name, long long lo, long long *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(x) || x->valuedouble < (double)lo || x->valuedouble > 9.0e15 ||
        x->valuedouble != (double)(long long)x->valuedouble)
        return false;
    *out = (long long)x->valuedouble;
    return true;
}

/* The saved checkpoint into v (anchor_*): false with the problem answered
 * when it is not one, or not signed by this registry's key. */
static bool anchor_parse(struct request *r, struct verify *v, const char *body, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const char *why = NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body must be a saved checkpoint (JSON)",
                        NULL, NULL);
        return false;
    }
    const char *created =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "created_at"));
    const char *key_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "key_id"));
    const char *sig = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "signature"));
    const cJSON *heads = cJSON_GetObjectItemCaseSensitive(root, "heads");
    int n = cJSON_GetArraySize(heads);
    if (!created || strlen(created) >= sizeof v->anchor_created || strchr(created, '\n') ||
        !is_hex64(key_id) || !sig || !cJSON_IsArray(heads) || n < 1 || n > MAX_CHAINS) {
        why = "created_at, key_id, heads and signature are required";
    }
    for (int i = 0; !why && i < n; i++) {
        const cJSON *h = cJSON_GetArrayItem(heads, i);
        long long chain, cseq, seq;
        const char *hash = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "hash"));
        if (!json_int(h, "chain", 0, &chain) || chain != i || !json_int(h, "chain_seq", 0, &cseq) ||
            !json_int(h, "seq", 0, &seq) || !is_hex64(hash)) {
            why = "each head is {chain (0, 1, ... in order), chain_seq, seq, hash}";
            break;
        }
        v->anchor_heads[i] = (struct checkpoint_head){.chain = i, .chain_seq = cseq, .seq = seq};
        memcpy(v->anchor_heads[i].hash, hash, 65);
    }
    if (why) {
        cJSON_Delete(root);
        request_problem(r, PROBLEM_CHECKPOINT_INVALID, why, NULL, NULL);
        return false;
    }
    struct db *db = request_db(r);
    if (strcmp(key_id, db_checkpoint_key_id(db)) != 0) {
        cJSON_Delete(root);
        request_problem(r, PROBLEM_CHECKPOINT_INVALID,
                        "the checkpoint was signed by another key than this registry's", NULL,
                        NULL);
        return false;
    }
    char *text = checkpoint_text(created, key_id, v->anchor_heads, (size_t)n);
    bool ok = db_checkpoint_signed(db, text, sig);
    free(text);
    snprintf(v->anchor_created, sizeof v->anchor_created, "%s", created);
    cJSON_Delete(root);
    if (!ok) {
        request_problem(r, PROBLEM_CHECKPOINT_INVALID,
                        "the signature does not match the checkpoint (changed, or not ours)", NULL,
                        NULL);
        return false;
    }
    v->anchored = true;
    v->anchor_n = n;
    return true;
}

void h_audit_verify_anchor(struct request *r)
{
    if (!checkpoints_on(r))
        return;
    size_t len;
    const char *body = request_body(r, &len);
    struct verify *v = xcalloc(1, sizeof *v);
    v->r = r;
    if (!anchor_parse(r, v, body ? body : "", body ? len : 0)) {
        free(v);
        return;
    }
    /* on the primary: a standby behind the checkpoint would look cut off */
    v->db = request_db(r);
    db_audit_heads(v->db, head_cb, v);
}

static void checkpoint_cb(void *arg, enum pg_outcome o, const char *json)
{
    struct request *r = arg;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    if (!json) {
        request_problem(r, PROBLEM_NOT_FOUND, "no checkpoint has been made yet", NULL, NULL);
        return;
    }
    request_json(r, request_method(r) == HM_POST ? 201 : 200, xstrdup(json));
}

void h_audit_checkpoint_get(struct request *r)
{
    if (checkpoints_on(r))
        db_checkpoint_latest(request_db(r), checkpoint_cb, r);
}

void h_audit_checkpoint_make(struct request *r)
{
    if (checkpoints_on(r))
        db_checkpoint_make(request_db(r), checkpoint_cb, r);
}

/* ---- lists: one page, or a stream -------------------------------------------- */

enum list_kind { LIST_CONSULTATIONS, LIST_DECISIONS, LIST_READS };

struct list {
    struct request *r;
    struct db *db; /* every page from one database */
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
    api_stream_fail(l->r, o); /* the status is sent already */
    list_free(l);
}

static void remember_cursor(struct list *l, const struct audit_item *it)
{
    for (int k = 0; k < (l->kind != LIST_DECISIONS ? 1 : 3); k++)
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
            if (l->kind != LIST_DECISIONS)
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
    if (l->kind == LIST_READS) {
        db_audit_reads(l->db, p[0], l->has_cursor ? l->cursor[0] : NULL, limit, page_rows_cb, l);
    } else if (l->kind == LIST_CONSULTATIONS) {
        struct consultation_filter f = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
        db_audit_consultations(l->db, &f, l->has_cursor ? l->cursor[0] : NULL, limit, page_rows_cb,
                               l);
    } else {
        struct decision_filter f = {p[0], p[1], p[2], p[3]};
        const char *after[] = {l->cursor[0], l->cursor[1], l->cursor[2]};
        db_audit_decisions(l->db, &f, l->has_cursor ? after : NULL, limit, page_rows_cb, l);
    }
}

/* Every list is a read of the trail or of people's data: its record (with
 * the SSIN filter, if any) is in the trail before the first item is sent. */
static void list_recorded(void *arg)
{
    struct list *l = arg;
    if (l->stream) {
        l->has_cursor = false; /* a stream is the whole list */
        request_stream_begin(l->r, 200, "application/x-ndjson");
    }
    list_fetch(l);
}

static void list_unrecorded(void *arg)
{
    list_free(arg);
}

static void list_go(struct list *l)
{
    static const char *const what[][2] = {
        [LIST_CONSULTATIONS] = {"read.audit.consultations", "/v1/audit/consultations"},
        [LIST_DECISIONS] = {"read.audit.decisions", "/v1/audit/decisions"},
        [LIST_READS] = {"read.audit.reads", "/v1/audit/reads"},
    };
    /* the SSIN filter: consultations' first member, decisions' second */
    const char *ssin = l->params[l->kind == LIST_DECISIONS ? 1 : 0];
    api_read_then(l->r, what[l->kind][0], what[l->kind][1], ssin, list_recorded, list_unrecorded,
                  l);
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
    static const enum audit_query_kind aq[] = {
        [LIST_CONSULTATIONS] = AQ_CONSULTATIONS,
        [LIST_DECISIONS] = AQ_DECISIONS,
        [LIST_READS] = AQ_READS,
    };
    if (!query_parse(r, aq[kind], &q))
        return;
    struct list *l = xcalloc(1, sizeof *l);
    l->r = r;
    l->db = api_auditor_db(r);
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
    list_go(l); /* the read is in the trail before the list is sent */
}

void h_audit_consultations(struct request *r)
{
    list_start(r, LIST_CONSULTATIONS);
}

void h_audit_decisions(struct request *r)
{
    list_start(r, LIST_DECISIONS);
}

/* GET /v1/audit/reads?ssin=...[&limit=&cursor=]: who read a person's data */
void h_audit_reads(struct request *r)
{
    list_start(r, LIST_READS);
}

/* ---- as of ---------------------------------------------------------------------- */

struct as_of {
    struct request *r;
    struct db *db;
    struct coverage_question q;
    char provider[16];
    struct as_of_facts facts;
    char known[48];
};

static void as_of_cb(void *arg, enum pg_outcome o);

/* recorded as a read of the person's data; then the question */
static void as_of_recorded(void *arg)
{
    struct as_of *a = arg;
    db_audit_as_of(a->db, &a->q, a->known, a->provider[0] ? a->provider : NULL, &a->facts, as_of_cb,
                   a);
}

static void as_of_read(struct as_of *a)
{
    api_read_then(a->r, "read.audit.coverage_as_of", "/v1/audit/coverage-as-of", a->q.ssin,
                  as_of_recorded, free, a);
}

/* The kind to judge the as-of question with, from the kinds the provider's
 * principals had then (kinds: comma-separated names): the first that may ask
 * the care type (one of them would have been answered); when none may, the
 * first (provider_kind_mismatch, as each of them was answered); PK_NONE when
 * it had none (or none was asked: not judged). */
static enum provider_kind as_of_kind(const char *kinds, enum care_type t)
{
    enum provider_kind first = PK_NONE;
    for (const char *p = kinds; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char name[32];
        enum provider_kind k;
        if (n < sizeof name) {
            memcpy(name, p, n);
            name[n] = '\0';
            if (provider_kind_from_name(name, &k)) {
                if (provider_kind_may_ask(k, t))
                    return k;
                if (first == PK_NONE)
                    first = k;
            }
        }
        if (!end)
            break;
        p = end + 1;
    }
    return first;
}

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
    /* the provider's kind as the live answer judged it (schema/010) */
    coverage_evaluate_kind(
        &a->q, a->facts.decisions, a->facts.n, a->provider[0] ? a->provider : NULL,
        as_of_kind(a->facts.provider_kinds, a->q.care_type), a->facts.today, res);
    /* without a provider, the designation of providers is not judged */
    if (!a->provider[0] && res->reason == RF_PROVIDER_NOT_DESIGNATED)
        res->reason = RF_NONE;
    /* the amounts with the tariff version in force then and the month's cap
     * use then: those of the answer given at that moment */
    coverage_split(&a->q, a->facts.tariffs.lines, a->facts.tariffs.n, a->facts.used_cents, res);
    char *text = coverage_encode_answer(&a->q, res, request_lang(r));
    ASSERT(text != NULL);
    char version[40] = "";
    if (a->facts.tariff_version > 0)
        snprintf(version, sizeof version, "\"tariff_version\":%lld,",
                 (long long)a->facts.tariff_version);
    char *out = xasprintf("{\"known_at\":\"%s\",%s%s", a->facts.known_at, version, text + 1);
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
    a->db = api_auditor_db(r);
    snprintf(a->q.ssin, sizeof a->q.ssin, "%s", q.param[AQA_SSIN]);
    a->q.ssin_valid = true;
    a->q.service_date = q.service_date;
    a->q.care_type = q.care_type;
    if (q.param[AQA_PROVIDER])
        snprintf(a->provider, sizeof a->provider, "%s", q.param[AQA_PROVIDER]);
    snprintf(a->known, sizeof a->known, "%s", q.param[AQA_KNOWN_AT]);
    if (q.param[AQA_ITEMS]) {
        bool items_ok = coverage_items_from_query(q.param[AQA_ITEMS], &a->q);
        ASSERT(items_ok); /* checked by audit_query_parse */
    }
    as_of_read(a); /* the read is in the trail before the answer is computed */
}
