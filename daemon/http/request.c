/*
 * request: one HTTP request: its head (parsed once, copied into the
 * request's arena), its body, the accessors handlers use, and its answer
 * (sized, or streamed as a generator).
 */
#include "http/request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "base/clock.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "http/exchange.h"
#include "http/response.h"
#include "http/router.h"
#include "net/conn.h"
#include "proto/fhir.h"

/* streamed answers: keep producing while less than this is unsent ... */
#define STREAM_HIGH (256 * 1024)
/* ... and resume when the client has read down to this */
#define STREAM_LOW (64 * 1024)

struct query_param {
    const char *name;  /* raw, NUL-terminated */
    const char *value; /* percent-decoded; NULL for a name without '=' */
};

struct request {
    struct conn *conn;
    struct http_conn *hc;
    struct arena *arena; /* everything below that is not a fixed field */
    bool answered;
    int64_t start_ms;
    int64_t start_us;      /* for the latency metric */
    struct http_head head; /* points into head_buf */
    char *head_buf;
    char *path;
    char *query; /* raw, NULL when the target has none */
    char *body;
    size_t body_len;
    uint64_t content_length;
    bool csv; /* the body is text/csv (else JSON, or none) */
    bool expect_continue;
    char request_id[65];
    enum lang lang;
    pdate today;
    const char *params[REQUEST_MAX_PARAMS];
    struct query_param *q; /* parsed on first use */
    size_t n_q;
    bool q_parsed;
    struct evbuffer *extra_headers;
    bool retry_after; /* a Retry-After is among extra_headers */
    char log_prefix[256];
    bool close_after; /* Connection: close, HTTP/1.0, error framing, draining */
    bool linger;      /* after this answer, drain input before closing */
    bool chunked;     /* streamed answer in chunks */
    /* streaming: the one-shot wake-up, and the generator's producer */
    struct event *ev_stream;
    void (*drain_cb)(void *arg);
    void *drain_arg;
    struct request_producer producer;
    void *producer_arg;
    size_t streamed; /* bytes of a streamed body, for the access log */
    int status;
};

static void set_prefix(struct request *r)
{
    struct http_conn_keep *k = http_conn_keep(r->hc);
    if (k->principal_known)
        snprintf(r->log_prefix, sizeof r->log_prefix, "%s %s:%s r=%s", conn_label(r->conn),
                 role_name(k->principal.role), k->principal.org, r->request_id);
    else
        snprintf(r->log_prefix, sizeof r->log_prefix, "%s r=%s", conn_label(r->conn),
                 r->request_id[0] ? r->request_id : "-");
}

static void stream_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct request *r = arg;
    void (*cb)(void *) = r->drain_cb;
    void *cb_arg = r->drain_arg;
    r->drain_cb = NULL;
    if (cb)
        cb(cb_arg);
}

/* ---- lifetime -------------------------------------------------------------------- */

struct request *request_new(struct conn *c, struct http_conn *hc)
{
    struct arena *a = arena_new();
    struct request *r = arena_zalloc(a, sizeof *r);
    r->arena = a;
    r->conn = c;
    r->hc = hc;
    r->start_ms = mono_ms();
    r->start_us = mono_us();
    r->today = clock_today();
    unsigned char rnd[8];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        memset(rnd, 0, sizeof rnd);
    hex_encode(rnd, sizeof rnd, r->request_id);
    set_prefix(r);
    return r;
}

void request_free(struct request *r)
{
    if (!r)
        return;
    if (r->extra_headers)
        evbuffer_free(r->extra_headers);
    if (r->ev_stream)
        event_free(r->ev_stream);
    free(r->body);
    arena_free(r->arena); /* r itself, head, path, query, copies, jobs */
}

void *request_alloc(struct request *r, size_t n)
{
    return arena_zalloc(r->arena, n);
}

char *request_arena_strndup(struct request *r, const char *s, size_t n)
{
    return arena_strndup(r->arena, s, n);
}

/* ---- the head ------------------------------------------------------------------------ */

static bool valid_request_id(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.' && ch != ':')
            return false;
    }
    return true;
}

/* application/json or text/csv (and application/fhir+json under /fhir),
 * with at most a UTF-8 charset */
static bool media_type_ok(const char *v, size_t n, bool *csv, bool fhir)
{
    size_t i = 0;
    while (i < n && v[i] != ';')
        i++;
    size_t e = i;
    while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'))
        e--;
    static const char json[] = "application/json", text_csv[] = "text/csv",
                      fhir_json[] = "application/fhir+json";
    if (e == sizeof json - 1 && strncasecmp(v, json, e) == 0)
        *csv = false;
    else if (fhir && e == sizeof fhir_json - 1 && strncasecmp(v, fhir_json, e) == 0)
        *csv = false;
    else if (e == sizeof text_csv - 1 && strncasecmp(v, text_csv, e) == 0)
        *csv = true;
    else
        return false;
    /* a charset, when given, must be UTF-8 */
    for (const char *p = v + i; p < v + n; p++) {
        if (strncasecmp(p, "charset=", 8) == 0) {
            const char *cs = p + 8;
            size_t left = (size_t)(v + n - cs);
            if (!(left >= 5 && strncasecmp(cs, "utf-8", 5) == 0) &&
                !(left >= 7 && strncasecmp(cs, "\"utf-8\"", 7) == 0))
                return false;
        }
    }
    return true;
}

static const char *rebase(const char *p, const char *from, const char *to)
{
    return p ? to + (p - from) : NULL;
}

#define FAIL(prob, ...)                                                                            \
    do {                                                                                           \
        *p = (prob);                                                                               \
        snprintf(detail, detail_len, __VA_ARGS__);                                                 \
        return false;                                                                              \
    } while (0)

bool request_take_head(struct request *r, const char *buf, const struct http_head *parsed,
                       enum problem *p, char *detail, size_t detail_len)
{
    /* one copy of the head, in the arena; the parse is moved onto it */
    size_t hl = parsed->head_len;
    r->head_buf = arena_alloc(r->arena, hl + 1);
    memcpy(r->head_buf, buf, hl);
    r->head_buf[hl] = '\0';
    r->head = *parsed;
    struct http_head *h = &r->head;
    h->method_str = rebase(h->method_str, buf, r->head_buf);
    h->target = rebase(h->target, buf, r->head_buf);
    for (size_t i = 0; i < h->n_headers; i++) {
        h->headers[i].name = rebase(h->headers[i].name, buf, r->head_buf);
        h->headers[i].value = rebase(h->headers[i].value, buf, r->head_buf);
    }

    const struct http_header *rid = http_find_header(h, "X-Request-Id");
    if (rid && valid_request_id(rid->value, rid->value_len)) {
        memcpy(r->request_id, rid->value, rid->value_len);
        r->request_id[rid->value_len] = '\0';
        set_prefix(r);
    }
    const struct http_header *al = http_find_header(h, "Accept-Language");
    if (al) {
        char tmp[256];
        size_t n = al->value_len < sizeof tmp - 1 ? al->value_len : sizeof tmp - 1;
        memcpy(tmp, al->value, n);
        tmp[n] = '\0';
        r->lang = lang_from_accept(tmp);
    }
    const struct http_header *conn_hdr = http_find_header(h, "Connection");
    if (h->minor_version == 0)
        r->close_after =
            !(conn_hdr && http_list_has_token(conn_hdr->value, conn_hdr->value_len, "keep-alive"));
    else if (conn_hdr && http_list_has_token(conn_hdr->value, conn_hdr->value_len, "close"))
        r->close_after = true;

    const char *q = memchr(h->target, '?', h->target_len);
    size_t plen = q ? (size_t)(q - h->target) : h->target_len;
    r->path = arena_strndup(r->arena, h->target, plen);
    r->query = q ? arena_strndup(r->arena, q + 1, h->target_len - plen - 1) : NULL;

    if (http_find_header(h, "Transfer-Encoding"))
        FAIL(PROBLEM_LENGTH_REQUIRED,
             "request bodies must be sent with Content-Length, not chunked");
    size_t n_cl = http_count_header(h, "Content-Length");
    if (n_cl > 1)
        FAIL(PROBLEM_BAD_REQUEST, "more than one Content-Length header");
    r->content_length = 0;
    if (n_cl == 1) {
        const struct http_header *cl = http_find_header(h, "Content-Length");
        if (!http_parse_content_length(cl->value, cl->value_len, &r->content_length))
            FAIL(PROBLEM_BAD_REQUEST, "Content-Length is not a number");
    }
    int64_t limit = router_body_limit(h->method, r->path, conn_config(r->conn));
    if (r->content_length > (uint64_t)limit)
        FAIL(PROBLEM_BODY_TOO_LARGE, "the body may be at most %lld bytes", (long long)limit);
    if (http_count_header(h, "Content-Type") > 1)
        FAIL(PROBLEM_BAD_REQUEST, "more than one Content-Type header");
    const struct http_header *ct = http_find_header(h, "Content-Type");
    if (r->content_length > 0 &&
        (!ct || !media_type_ok(ct->value, ct->value_len, &r->csv, fhir_path(r->path))))
        FAIL(PROBLEM_UNSUPPORTED_MEDIA_TYPE, "request bodies must be application/json (or "
                                             "text/csv where a resource takes it), UTF-8");
    const struct http_header *ex = http_find_header(h, "Expect");
    if (ex) {
        if (ex->value_len == 12 && strncasecmp(ex->value, "100-continue", 12) == 0)
            r->expect_continue = r->content_length > 0;
        else
            FAIL(PROBLEM_BAD_REQUEST, "unsupported Expect header");
    }
    return true;
}

uint64_t request_content_length(const struct request *r)
{
    return r->content_length;
}

bool request_expects_continue(const struct request *r)
{
    return r->expect_continue;
}

void request_take_body(struct request *r, struct evbuffer *in)
{
    size_t bl = (size_t)r->content_length;
    r->body = xmalloc(bl + 1);
    evbuffer_remove(in, r->body, bl);
    r->body[bl] = '\0';
    r->body_len = bl;
}

bool request_close_after(const struct request *r)
{
    return r->close_after;
}

bool request_lingers(const struct request *r)
{
    return r->linger;
}

/* ---- accessors ------------------------------------------------------------- */

enum http_method request_method(const struct request *r)
{
    return r->head.method;
}
const char *request_path(const struct request *r)
{
    return r->path;
}
const char *request_body(const struct request *r, size_t *len)
{
    *len = r->body_len;
    return r->body;
}
const char *request_param(const struct request *r, int i)
{
    return i >= 0 && i < REQUEST_MAX_PARAMS ? r->params[i] : NULL;
}
void request_set_params(struct request *r, const char *const *params, int n)
{
    for (int i = 0; i < REQUEST_MAX_PARAMS; i++)
        r->params[i] = i < n ? params[i] : NULL;
}
const struct principal *request_principal(const struct request *r)
{
    return &http_conn_keep(r->hc)->principal;
}
struct db *request_db(const struct request *r)
{
    return conn_app(r->conn);
}
const struct config *request_config(const struct request *r)
{
    return conn_config(r->conn);
}
enum lang request_lang(const struct request *r)
{
    return r->lang;
}
pdate request_today(const struct request *r)
{
    return r->today;
}
const char *request_log_prefix(const struct request *r)
{
    return r->log_prefix;
}
bool request_body_is_csv(const struct request *r)
{
    return r->csv;
}
const char *request_fingerprint(const struct request *r)
{
    return conn_fingerprint(r->conn);
}
bool request_client_gone(const struct request *r)
{
    enum conn_state s = conn_state(r->conn);
    return s == CS_ORPHAN || s == CS_CLOSED;
}

void request_set_principal(struct request *r, const struct principal *p)
{
    struct http_conn_keep *k = http_conn_keep(r->hc);
    if (p)
        k->principal = *p;
    k->principal_known = p != NULL;
    set_prefix(r);
}

void *request_conn_data(const struct request *r)
{
    return http_conn_keep(r->hc)->auth_data;
}

void request_set_conn_data(struct request *r, void *data, void (*free_fn)(void *data))
{
    struct http_conn_keep *k = http_conn_keep(r->hc);
    ASSERT(k->auth_data == NULL);
    k->auth_data = data;
    k->auth_free = free_fn;
}

const char *request_header(struct request *r, const char *name)
{
    const struct http_header *h = http_find_header(&r->head, name);
    return h ? arena_strndup(r->arena, h->value, h->value_len) : NULL;
}

/* does the If-None-Match list v name etag (weak comparison: W/ is ignored)? */
static bool etag_listed(const char *v, const char *etag)
{
    size_t want = strlen(etag);
    for (;;) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        if (!*v)
            return false;
        if (*v == '*')
            return true;
        if (v[0] == 'W' && v[1] == '/')
            v += 2;
        const char *end = v;
        if (*v == '"') {
            end = strchr(v + 1, '"');
            if (!end)
                return false;
            end++;
        } else {
            while (*end && *end != ',')
                end++;
        }
        if ((size_t)(end - v) == want && memcmp(v, etag, want) == 0)
            return true;
        v = end;
    }
}

bool request_etag(struct request *r, const char *etag)
{
    request_add_header(r, "ETag", etag);
    if (r->head.method != HM_GET && r->head.method != HM_HEAD)
        return false;
    const char *inm = request_header(r, "If-None-Match");
    return inm && etag_listed(inm, etag);
}

void request_not_modified(struct request *r)
{
    request_respond(r, 304, NULL, NULL, 0);
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static char *decode(struct request *r, const char *v, size_t vl)
{
    char *out = arena_alloc(r->arena, vl + 1);
    size_t o = 0;
    for (size_t i = 0; i < vl; i++) {
        if (v[i] == '%' && i + 2 < vl && hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
            out[o++] = (char)(hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
            i += 2;
        } else {
            out[o++] = v[i] == '+' ? ' ' : v[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* "a=1&b=2": each non-empty segment is one parameter, in order */
static void parse_query(struct request *r)
{
    if (r->q_parsed)
        return;
    r->q_parsed = true;
    if (!r->query)
        return;
    size_t n = 1;
    for (const char *p = r->query; *p; p++)
        n += *p == '&';
    r->q = arena_alloc(r->arena, n * sizeof *r->q);
    for (const char *p = r->query; *p;) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > 0) {
            const char *eq = memchr(p, '=', seg);
            size_t nl = eq ? (size_t)(eq - p) : seg;
            struct query_param *qp = &r->q[r->n_q++];
            qp->name = arena_strndup(r->arena, p, nl);
            qp->value = eq ? decode(r, eq + 1, seg - nl - 1) : NULL;
        }
        p += seg;
        if (*p == '&')
            p++;
    }
}

const char *request_query(struct request *r, const char *name)
{
    parse_query(r);
    for (size_t i = 0; i < r->n_q; i++)
        if (r->q[i].value && r->q[i].name[0] && strcmp(r->q[i].name, name) == 0)
            return r->q[i].value;
    return NULL;
}

size_t request_n_query(struct request *r)
{
    parse_query(r);
    return r->n_q;
}

const char *request_query_name(struct request *r, size_t i)
{
    parse_query(r);
    return i < r->n_q ? r->q[i].name : NULL;
}

/* ---- answering --------------------------------------------------------------- */

void request_add_header(struct request *r, const char *name, const char *value)
{
    if (strcasecmp(name, "Retry-After") == 0)
        r->retry_after = true;
    if (!r->extra_headers)
        r->extra_headers = evbuffer_new();
    if (r->extra_headers)
        evbuffer_add_printf(r->extra_headers, "%s: %s\r\n", name, value);
}

static void access_log(const struct request *r, int status, size_t len)
{
    if (!log_enabled(LOG_INFO))
        return;
    char path[256];
    log_redact_path(r->path ? r->path : "-", path, sizeof path);
    log_ctx(LOG_INFO, r->log_prefix, "%.*s %s %d %zu %lldms",
            (int)(r->head.method_len ? r->head.method_len : 1),
            r->head.method_len ? r->head.method_str : "-", path, status, len,
            (long long)(mono_ms() - r->start_ms));
}

/* Shutting down: this answer closes the connection, unless the client has
 * already sent more (a pipelined request, answered next and closing then). */
static void drain_close(struct request *r)
{
    if (!conn_draining(r->conn))
        return;
    struct evbuffer *in = conn_input(r->conn);
    if (!in || evbuffer_get_length(in) == 0)
        r->close_after = true;
}

/* The answer is complete (sized, or the end of a stream): false when the
 * client left, and the request is gone then. */
static bool answer_done(struct request *r, int status, size_t len)
{
    r->answered = true;
    access_log(r, status, len);
    metrics_request(r->path ? router_index(r->head.method, r->path) : -1, status,
                    mono_us() - r->start_us);
    if (conn_state(r->conn) == CS_ORPHAN) {
        http_conn_finish(r->hc); /* frees r */
        return false;
    }
    drain_close(r);
    return true;
}

void request_respond(struct request *r, int status, const char *content_type, char *body,
                     size_t len)
{
    if (r->answered || conn_state(r->conn) == CS_STREAMING) {
        /* a second answer is a bug; never send it */
        log_ctx(LOG_ERROR, r->log_prefix, "second answer to one request dropped (%d)", status);
        free(body);
        return;
    }
    struct conn *c = r->conn;
    if (!answer_done(r, status, len)) {
        free(body);
        return;
    }
    struct evbuffer *out = conn_output(c);
    struct response_head h = {.status = status,
                              .content_type = content_type,
                              .request_id = r->request_id,
                              .content_length = len,
                              .close = r->close_after,
                              .extra = r->extra_headers};
    response_write_head(out, &h);
    if (body && len && r->head.method != HM_HEAD)
        evbuffer_add(out, body, len);
    free(body);
    conn_set_state(c, CS_WRITING);
}

void request_json(struct request *r, int status, char *json)
{
    if (!json) {
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        return;
    }
    request_respond(r, status, "application/json", json, strlen(json));
}

void request_problem(struct request *r, enum problem p, const char *detail,
                     const struct verrs *errs, const struct cJSON *extra)
{
    /* under /fhir every problem is an OperationOutcome (docs/fhir.md) */
    bool fhir = fhir_path(r->path);
    char *doc = fhir ? fhir_operation_outcome(p, detail, errs, r->lang)
                     : problem_encode_lang(p, detail, errs, extra, r->lang);
    int status = problem_status(p);
    /* a handler may have set its own (a rate limit knows when) */
    if (problem_retry_later(p) && !r->retry_after)
        request_add_header(r, "Retry-After", "1");
    if (status == 400 || status == 408 || status == 411 || status == 413 || status == 431 ||
        status == 501 || status == 505)
        r->close_after = true; /* framing may be lost: do not reuse */
    if (!doc) {
        static const char fallback[] = "{\"code\":\"internal_error\",\"status\":500}";
        doc = xstrdup(fallback);
        status = 500;
    }
    request_respond(r, status, fhir ? "application/fhir+json" : "application/problem+json", doc,
                    strlen(doc));
}

void request_early_problem(struct request *r, enum problem p, const char *detail)
{
    conn_set_state(r->conn, CS_DISPATCHED);
    r->close_after = true;
    /* the client may still be sending (a body we refused): closing with
     * unread bytes would make the kernel reset the connection and lose
     * the answer, so read and discard for a while after answering */
    r->linger = true;
    request_problem(r, p, detail, NULL, NULL);
}

/* ---- streaming --------------------------------------------------------------------- */

void request_stream_begin(struct request *r, int status, const char *content_type)
{
    struct conn *c = r->conn;
    r->status = status;
    if (conn_state(c) != CS_DISPATCHED)
        return; /* the client left: request_stream_gone() says so */
    drain_close(r);
    r->chunked = r->head.minor_version >= 1;
    if (!r->chunked)
        r->close_after = true; /* HTTP/1.0: the end of the body is the close */
    r->ev_stream = evtimer_new(conn_base(c), stream_fire, r);
    ASSERT(r->ev_stream != NULL);
    struct response_head h = {.status = status,
                              .content_type = content_type,
                              .request_id = r->request_id,
                              .streamed = true,
                              .chunked = r->chunked,
                              .close = r->close_after,
                              .extra = r->extra_headers};
    response_write_head(conn_output(c), &h);
    conn_set_state(c, CS_STREAMING);
    conn_set_write_low(c, STREAM_LOW);
}

static void stream_piece(struct request *r, const char *data, size_t len, bool newline)
{
    /* HEAD: the headers only */
    if (conn_state(r->conn) != CS_STREAMING || len == 0 || r->head.method == HM_HEAD)
        return;
    r->streamed += response_write_piece(conn_output(r->conn), r->chunked, data, len, newline);
}

void request_stream_write(struct request *r, const char *data, size_t len)
{
    stream_piece(r, data, len, false);
}

void request_stream_line(struct request *r, const char *data, size_t len)
{
    stream_piece(r, data, len, true);
}

bool request_stream_gone(const struct request *r)
{
    return conn_state(r->conn) != CS_STREAMING;
}

bool request_stream_room(const struct request *r)
{
    return conn_state(r->conn) == CS_STREAMING && conn_output_length(r->conn) < STREAM_HIGH;
}

static void wake_soon(struct request *r)
{
    if (r->ev_stream) {
        struct timeval now = {0, 0};
        evtimer_add(r->ev_stream, &now);
    } else {
        /* the stream never began (the client had left): no timer yet */
        r->ev_stream = evtimer_new(conn_base(r->conn), stream_fire, r);
        ASSERT(r->ev_stream != NULL);
        struct timeval now = {0, 0};
        evtimer_add(r->ev_stream, &now);
    }
}

void request_stream_on_drain(struct request *r, void (*cb)(void *arg), void *arg)
{
    r->drain_cb = cb;
    r->drain_arg = arg;
    if (conn_state(r->conn) != CS_STREAMING) {
        wake_soon(r); /* gone already: call back from the loop, never from here */
        return;
    }
    conn_wait_writable(r->conn);
}

void request_stream_drained(struct request *r)
{
    stream_fire(-1, 0, r);
}

void request_client_left(struct request *r)
{
    if (r->drain_cb)
        wake_soon(r);
}

static void producer_step(void *arg)
{
    struct request *r = arg;
    if (request_stream_gone(r))
        r->producer.stop(r->producer_arg);
    else
        r->producer.proceed(r->producer_arg);
}

void request_stream_next(struct request *r)
{
    if (request_stream_room(r)) {
        r->drain_cb = producer_step;
        r->drain_arg = r;
        wake_soon(r);
    } else {
        request_stream_on_drain(r, producer_step, r);
    }
}

void request_stream_produce(struct request *r, int status, const char *content_type,
                            const struct request_producer *p, void *arg)
{
    r->producer = *p;
    r->producer_arg = arg;
    request_stream_begin(r, status, content_type);
    request_stream_next(r);
}

void request_stream_end(struct request *r)
{
    if (r->answered)
        return;
    struct conn *c = r->conn;
    if (!answer_done(r, r->status, r->streamed))
        return;
    ASSERT(conn_state(c) == CS_STREAMING); /* ended without a begin */
    if (r->chunked && r->head.method != HM_HEAD)
        response_write_last_chunk(conn_output(c));
    conn_set_state(c, CS_WRITING);
}
