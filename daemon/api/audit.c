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

#include "proto/coverage.h"
#include "proto/ids.h"
#include "api/common.h"
#include "api/reads.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "db/audit.h"
#include "db/checkpoint.h"

#define VERIFY_PAGE   2000
#define STREAM_PAGE   500
#define DEFAULT_LIMIT 100
#define MAX_LIMIT     1000

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
    db_audit_heads(request_db(r), head_cb, v);
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
    db_audit_missing(request_db(v->r), missing_cb, v);
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
    db_audit_heads(request_db(r), head_cb, v);
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
        db_audit_reads(request_db(l->r), p[0], l->has_cursor ? l->cursor[0] : NULL, limit,
                       page_rows_cb, l);
    } else if (l->kind == LIST_CONSULTATIONS) {
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

/* GET /v1/audit/reads?ssin=...[&limit=&cursor=]: who read a person's data */
void h_audit_reads(struct request *r)
{
    struct list *l = xcalloc(1, sizeof *l);
    l->r = r;
    l->kind = LIST_READS;
    l->stream = request_header(r, "Accept") &&
                strstr(request_header(r, "Accept"), "application/x-ndjson") != NULL;
    l->limit = DEFAULT_LIMIT;
    struct verrs e;
    verrs_init(&e);
    const char *ssin = request_query(r, "ssin");
    if (!ssin || !ids_ssin_valid(ssin, strlen(ssin)))
        verrs_add(&e, "ssin", ssin ? "invalid_value" : "required", "a valid SSIN is required");
    else
        l->params[0] = xstrdup(ssin);
    const char *lim = request_query(r, "limit");
    if (lim) {
        char *end;
        long n = strtol(lim, &end, 10);
        if (!*lim || *end || n < 1 || n > MAX_LIMIT)
            verrs_add(&e, "limit", "invalid_value", "is a number from 1 to %d", MAX_LIMIT);
        else
            l->limit = (int)n;
    }
    const char *cur = request_query(r, "cursor");
    if (cur) {
        char *end;
        long long n = strtoll(cur, &end, 10);
        if (!*cur || *end || n < 1 || strlen(cur) > 18)
            verrs_add(&e, "cursor", "invalid_value", "is not a cursor this list gave");
        else {
            snprintf(l->cursor[0], sizeof l->cursor[0], "%s", cur);
            l->has_cursor = true;
        }
    }
    if (e.n) {
        list_free(l);
        request_problem(r, PROBLEM_INVALID_PARAMETER, "a parameter is not valid", &e, NULL);
        return;
    }
    list_go(l);
}

/* ---- parameters ---------------------------------------------------------------- */

static bool digits(const char *s, size_t lo, size_t hi)
{
    size_t n = strlen(s);
    if (n < lo || n > hi)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int two(const char *s)
{
    return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' ? (s[0] - '0') * 10 + s[1] - '0'
                                                                    : -1;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), T and Z in
 * either case; or a plain date (its start, UTC). Ranges are checked, so
 * the database never sees an impossible time. */
static bool timestamp_ok(const char *s)
{
    pdate d;
    size_t n = strlen(s);
    if (n == 10)
        return date_parse(s, n, &d);
    if (n < 20 || n > 40 || !date_parse(s, 10, &d) || (s[10] != 'T' && s[10] != 't'))
        return false;
    int hh = two(s + 11), mm = two(s + 14), ss = two(s + 17);
    if (hh < 0 || hh > 23 || s[13] != ':' || mm < 0 || mm > 59 || s[16] != ':' || ss < 0 || ss > 60)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f || i - f > 9)
            return false;
    }
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z'))
        return true;
    if (i + 6 != n || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':')
        return false;
    int oh = two(s + i + 1), om = two(s + i + 4);
    return oh >= 0 && oh <= 23 && om >= 0 && om <= 59;
}

/* the cursor's time: YYYY-MM-DDTHH:MM:SS.ffffff (UTC, as the list gave it) */
static bool cursor_time_ok(const char *s)
{
    char buf[40];
    if (strlen(s) != 26 || s[19] != '.')
        return false;
    snprintf(buf, sizeof buf, "%sZ", s);
    return timestamp_ok(buf);
}

static bool param(struct request *r, struct verrs *e, const char *name, int kind, char **out)
{
    const char *v = request_query(r, name);
    *out = NULL;
    if (!v)
        return true;
    pdate d;
    bool ok;
    switch (kind) {
    case 'S':
        ok = ids_ssin_valid(v, strlen(v));
        break;
    case 'O':
        ok = ids_kbo_valid(v, strlen(v));
        break;
    case 'P':
        ok = digits(v, 10, 11);
        break;
    case 'D':
        ok = date_parse(v, strlen(v), &d);
        break;
    case 'T':
        ok = timestamp_ok(v);
        break;
    default:
        ok = strlen(v) > 0 && strlen(v) < 64;
        break;
    }
    if (!ok) {
        verrs_add(e, name, "invalid_value", "is not a valid %s",
                  kind == 'S'   ? "SSIN"
                  : kind == 'O' ? "KBO number"
                  : kind == 'P' ? "NIHII or KBO number"
                  : kind == 'D' ? "date (YYYY-MM-DD)"
                  : kind == 'T' ? "timestamp (RFC 3339) or date"
                                : "value");
        return false;
    }
    *out = xstrdup(v);
    return true;
}

static bool wants_ndjson(struct request *r)
{
    const char *a = request_header(r, "Accept");
    return a && strstr(a, "application/x-ndjson") != NULL;
}

static void list_start(struct request *r, enum list_kind kind)
{
    struct list *l = xcalloc(1, sizeof *l);
    l->r = r;
    l->kind = kind;
    l->stream = wants_ndjson(r);
    l->limit = DEFAULT_LIMIT;
    struct verrs e;
    verrs_init(&e);
    if (kind == LIST_CONSULTATIONS) {
        static const struct {
            const char *name;
            int kind;
        } f[] = {{"ssin", 'S'},         {"provider", 'P'},   {"ocmw", 'O'},
                 {"service_from", 'D'}, {"service_to", 'D'}, {"recorded_from", 'T'},
                 {"recorded_to", 'T'},  {"outcome", 'X'}};
        for (int i = 0; i < 8; i++)
            param(r, &e, f[i].name, f[i].kind, &l->params[i]);
        const char *oc = l->params[7];
        if (oc && strcmp(oc, "covered") != 0 && strcmp(oc, "not_covered") != 0) {
            bool known = false;
            for (int k = RF_INVALID_SSIN; k < RF__COUNT; k++)
                known = known || (k != RF_UNKNOWN_CODE && /* refuses items only */
                                  strcmp(oc, refusal_code((enum refusal)k)) == 0);
            if (!known)
                verrs_add(&e, "outcome", "invalid_value",
                          "is covered, not_covered or a refusal reason code");
        }
    } else {
        param(r, &e, "ocmw", 'O', &l->params[0]);
        param(r, &e, "ssin", 'S', &l->params[1]);
        param(r, &e, "changed_since", 'T', &l->params[2]);
        param(r, &e, "status", 'X', &l->params[3]);
        enum decision_status st;
        if (l->params[3] && !decision_status_from_name(l->params[3], strlen(l->params[3]), &st))
            verrs_add(&e, "status", "invalid_value", "is active, suspended or stopped");
    }
    const char *lim = request_query(r, "limit");
    if (lim) {
        if (!digits(lim, 1, 4) || atoi(lim) < 1 || atoi(lim) > MAX_LIMIT)
            verrs_add(&e, "limit", "invalid_value", "is a number from 1 to %d", MAX_LIMIT);
        else
            l->limit = atoi(lim);
    }
    const char *cur = request_query(r, "cursor");
    if (cur) {
        bool ok;
        if (kind == LIST_CONSULTATIONS) {
            ok = strlen(cur) == 14 && cur[0] == 'A';
            if (ok)
                snprintf(l->cursor[0], sizeof l->cursor[0], "%s", cur);
        } else {
            /* recorded_at~decision~version */
            const char *a = strchr(cur, '~');
            const char *b = a ? strchr(a + 1, '~') : NULL;
            ok = a && b && a - cur >= 19 && a - cur < 40 && b - a - 1 == 14 && digits(b + 1, 1, 9);
            if (ok) {
                snprintf(l->cursor[0], sizeof l->cursor[0], "%.*s", (int)(a - cur), cur);
                snprintf(l->cursor[1], sizeof l->cursor[1], "%.*s", (int)(b - a - 1), a + 1);
                snprintf(l->cursor[2], sizeof l->cursor[2], "%s", b + 1);
                ok = cursor_time_ok(l->cursor[0]) && l->cursor[1][0] == 'D';
            }
        }
        if (!ok)
            verrs_add(&e, "cursor", "invalid_value", "is not a cursor this list gave");
        l->has_cursor = ok;
    }
    if (e.n) {
        list_free(l);
        request_problem(r, PROBLEM_INVALID_PARAMETER, "a filter is not valid", &e, NULL);
        return;
    }
    list_go(l);
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
    char known[48];
};

static void as_of_cb(void *arg, enum pg_outcome o);

/* recorded as a read of the person's data; then the question */
static void as_of_recorded(void *arg)
{
    struct as_of *a = arg;
    db_audit_as_of(request_db(a->r), a->q.ssin, a->q.service_date, a->known, &a->facts, as_of_cb,
                   a);
}

static void as_of_read(struct as_of *a)
{
    api_read_then(a->r, "read.audit.coverage_as_of", "/v1/audit/coverage-as-of", a->q.ssin,
                  as_of_recorded, free, a);
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
    struct as_of *a = xcalloc(1, sizeof *a);
    a->r = r;
    struct verrs e;
    verrs_init(&e);
    const char *ssin = request_query(r, "ssin");
    const char *date = request_query(r, "service_date");
    const char *care = request_query(r, "care_type");
    const char *known = request_query(r, "known_at");
    const char *prov = request_query(r, "provider");
    if (!ssin || !ids_ssin_valid(ssin, strlen(ssin)))
        verrs_add(&e, "ssin", ssin ? "invalid_value" : "required", "a valid SSIN is required");
    else
        snprintf(a->q.ssin, sizeof a->q.ssin, "%s", ssin);
    a->q.ssin_valid = true;
    if (!date || !date_parse(date, strlen(date), &a->q.service_date))
        verrs_add(&e, "service_date", date ? "invalid_value" : "required",
                  "a date YYYY-MM-DD is required");
    if (!care || !care_type_from_name(care, strlen(care), &a->q.care_type))
        verrs_add(&e, "care_type", care ? "invalid_value" : "required",
                  "one of the eight care types is required");
    if (!known || !timestamp_ok(known))
        verrs_add(&e, "known_at", known ? "invalid_value" : "required",
                  "an RFC 3339 timestamp (or a date) is required");
    if (prov && !digits(prov, 10, 11))
        verrs_add(&e, "provider", "invalid_value", "is a NIHII or KBO number");
    else if (prov)
        snprintf(a->provider, sizeof a->provider, "%s", prov);
    if (e.n) {
        free(a);
        request_problem(r, PROBLEM_INVALID_PARAMETER, "the question is incomplete", &e, NULL);
        return;
    }
    snprintf(a->known, sizeof a->known, "%s", known);
    as_of_read(a);
}
