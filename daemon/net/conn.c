/*
 * conn: TLS connections and HTTP/1.1 framing on libevent bufferevents.
 *
 * States: HANDSHAKE -> IDLE -> READ_HEAD -> READ_BODY -> DISPATCHED ->
 * WRITING -> IDLE (keep-alive) ... -> CLOSED. One request at a time; bytes
 * a client pipelines behind it stay buffered (bounded by the read
 * watermark) until the answer is flushed. One timer per connection bounds
 * the handshake and the reception of a request (request_timeout_ms), the
 * keep-alive idle time (idle_timeout_ms) and a stalled write.
 */
#include "net/conn.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <cjson/cJSON.h>

#include "base/hex.h"
#include "base/log.h"
#include "http/router.h"
#include "net/server.h"

/* how long to read and discard after an error answer before closing */
#define LINGER_MS 1000

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_close(struct conn *c, const char *reason);
static void conn_process(struct conn *c);

int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_arm(struct conn *c, int64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(c->timer, &tv);
}

void conn_set_prefix(struct conn *c)
{
    struct request *r = &c->req;
    if (c->pstate == PS_KNOWN)
        snprintf(r->log_prefix, sizeof r->log_prefix, "%s c%llu %s %s:%s r=%s", c->w->tag,
                 (unsigned long long)c->id, c->peer, role_name(c->principal.role), c->principal.org,
                 r->request_id);
    else
        snprintf(r->log_prefix, sizeof r->log_prefix, "%s c%llu %s r=%s", c->w->tag,
                 (unsigned long long)c->id, c->peer, r->request_id[0] ? r->request_id : "-");
}

/* ---- request lifetime ------------------------------------------------------ */

static void request_clear(struct request *r)
{
    free(r->head_buf);
    free(r->path);
    free(r->query);
    free(r->body);
    free(r->param_buf);
    if (r->extra_headers)
        evbuffer_free(r->extra_headers);
    for (size_t i = 0; i < r->n_header_copies; i++)
        free(r->header_copies[i]);
    free(r->header_copies);
    for (size_t i = 0; i < r->n_query_copies; i++)
        free(r->query_copies[i]);
    struct conn *c = r->conn;
    memset(r, 0, sizeof *r);
    r->conn = c;
}

static pdate business_today(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm); /* TZ is the configured business time zone */
    return date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

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

/* A request starts: count it, give it an id. */
static void request_begin(struct conn *c)
{
    struct request *r = &c->req;
    r->in_flight = true;
    r->start_ms = mono_ms();
    r->today = business_today();
    c->w->n_in_flight++;
    unsigned char rnd[8];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        memset(rnd, 0, sizeof rnd);
    hex_encode(rnd, sizeof rnd, r->request_id);
    conn_set_prefix(c);
}

/* ---- answering --------------------------------------------------------------- */

static const char *status_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

void request_add_header(struct request *r, const char *name, const char *value)
{
    if (!r->extra_headers)
        r->extra_headers = evbuffer_new();
    if (r->extra_headers)
        evbuffer_add_printf(r->extra_headers, "%s: %s\r\n", name, value);
}

/* streamed answers: keep producing while less than this is unsent ... */
#define STREAM_HIGH (256 * 1024)
/* ... and resume when the client has read down to this */
#define STREAM_LOW (64 * 1024)

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

void request_stream_begin(struct request *r, int status, const char *content_type)
{
    struct conn *c = r->conn;
    r->status = status;
    if (c->state == CS_CLOSED) {
        c->state = CS_CLOSED;
        return;
    }
    if (c->w->draining)
        r->close_after = true;
    r->chunked = r->head.minor_version >= 1;
    if (!r->chunked)
        r->close_after = true; /* HTTP/1.0: the end of the body is the close */
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nX-Request-Id: %s\r\n", status,
                        status_reason(status), content_type, r->request_id);
    evbuffer_add_printf(out, "Cache-Control: no-store\r\n%s%s\r\n",
                        r->chunked ? "Transfer-Encoding: chunked\r\n" : "",
                        r->close_after ? "Connection: close\r\n" : "");
    if (r->extra_headers)
        evbuffer_add_buffer(out, r->extra_headers);
    c->state = CS_STREAMING;
    bufferevent_setwatermark(c->bev, EV_WRITE, STREAM_LOW, 0);
    bufferevent_enable(c->bev, EV_WRITE);
}

static void stream_piece(struct request *r, const char *data, size_t len, bool newline)
{
    struct conn *c = r->conn;
    /* HEAD: the headers only */
    if (c->state != CS_STREAMING || len == 0 || r->head.method == HM_HEAD)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t total = len + (newline ? 1 : 0);
    if (r->chunked)
        evbuffer_add_printf(out, "%zx\r\n", total);
    evbuffer_add(out, data, len);
    if (newline)
        evbuffer_add(out, "\n", 1);
    if (r->chunked)
        evbuffer_add(out, "\r\n", 2);
    r->streamed += total;
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
    return r->conn->state == CS_CLOSED;
}

bool request_stream_room(const struct request *r)
{
    const struct conn *c = r->conn;
    return c->state == CS_STREAMING &&
           evbuffer_get_length(bufferevent_get_output(c->bev)) < STREAM_HIGH;
}

static void drain_trampoline(evutil_socket_t fd, short what, void *arg)
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

void request_stream_on_drain(struct request *r, void (*cb)(void *arg), void *arg)
{
    struct conn *c = r->conn;
    r->drain_cb = cb;
    r->drain_arg = arg;
    if (c->state != CS_STREAMING) {
        /* gone already: call back from the loop, never from here */
        event_base_once(c->w->base, -1, EV_TIMEOUT, drain_trampoline, r, NULL);
        return;
    }
    /* a client that stops reading does not hold the stream for ever */
    conn_arm(c, c->w->cfg->request_timeout_ms);
}

void request_stream_end(struct request *r)
{
    struct conn *c = r->conn;
    struct worker *w = c->w;
    if (!r->in_flight)
        return;
    r->in_flight = false;
    w->n_in_flight--;
    access_log(r, r->status, r->streamed);
    if (c->state == CS_CLOSED) {
        request_clear(r);
        conn_close(c, "stream ended after the client left");
        worker_check_drained(w);
        return;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (r->chunked && r->head.method != HM_HEAD)
        evbuffer_add(out, "0\r\n\r\n", 5);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    c->state = CS_WRITING;
    conn_arm(c, w->cfg->request_timeout_ms);
    bufferevent_enable(c->bev, EV_WRITE);
}

void request_respond(struct request *r, int status, const char *content_type, char *body,
                     size_t len)
{
    struct conn *c = r->conn;
    struct worker *w = c->w;
    if (!r->in_flight) {
        /* a second answer is a bug; never send it */
        log_ctx(LOG_ERROR, r->log_prefix, "second answer to one request dropped (%d)", status);
        free(body);
        return;
    }
    r->in_flight = false;
    w->n_in_flight--;
    access_log(r, status, len);

    if (c->state == CS_CLOSED) {
        free(body);
        request_clear(r);
        conn_close(c, "answered after the client left");
        worker_check_drained(w);
        return;
    }
    if (w->draining)
        r->close_after = true;

    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, status_reason(status));
    if (content_type)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", content_type);
    evbuffer_add_printf(out, "Content-Length: %zu\r\nX-Request-Id: %s\r\n", len, r->request_id);
    evbuffer_add_printf(out, "Cache-Control: no-store\r\n");
    if (r->extra_headers)
        evbuffer_add_buffer(out, r->extra_headers);
    if (r->close_after)
        evbuffer_add_printf(out, "Connection: close\r\n");
    evbuffer_add(out, "\r\n", 2);
    if (body && len && r->head.method != HM_HEAD)
        evbuffer_add(out, body, len);
    free(body);

    c->state = CS_WRITING;
    conn_arm(c, w->cfg->request_timeout_ms);
    bufferevent_enable(c->bev, EV_WRITE);
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
                     const struct verrs *errs, const cJSON *extra)
{
    char *doc = problem_encode(p, detail, errs, extra);
    int status = problem_status(p);
    if (p == PROBLEM_DATABASE_UNAVAILABLE || p == PROBLEM_SHUTTING_DOWN)
        request_add_header(r, "Retry-After", "1");
    if (status == 400 || status == 408 || status == 411 || status == 413 || status == 431 ||
        status == 501 || status == 505)
        r->close_after = true; /* framing may be lost: do not reuse */
    if (!doc) {
        static const char fallback[] = "{\"code\":\"internal_error\",\"status\":500}";
        doc = strdup(fallback);
        status = 500;
    }
    request_respond(r, status, "application/problem+json", doc, doc ? strlen(doc) : 0);
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
const struct principal *request_principal(const struct request *r)
{
    return &r->conn->principal;
}
struct worker *request_worker(const struct request *r)
{
    return r->conn->w;
}

struct db *request_db(const struct request *r)
{
    return r->conn->w->db;
}

const struct config *request_config(const struct request *r)
{
    return r->conn->w->cfg;
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

const char *request_header(struct request *r, const char *name)
{
    const struct http_header *h = http_find_header(&r->head, name);
    if (!h)
        return NULL;
    char **grown = realloc(r->header_copies, (r->n_header_copies + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    r->header_copies = grown;
    char *v = strndup(h->value, h->value_len);
    if (!v)
        return NULL;
    r->header_copies[r->n_header_copies++] = v;
    return v;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

const char *request_query(struct request *r, const char *name)
{
    if (!r->query || r->n_query_copies == sizeof r->query_copies / sizeof r->query_copies[0])
        return NULL;
    size_t nl = strlen(name);
    for (const char *p = r->query; *p;) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1;
            size_t vl = seg - nl - 1;
            char *out = malloc(vl + 1);
            if (!out)
                return NULL;
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
            r->query_copies[r->n_query_copies++] = out;
            return out;
        }
        p += seg;
        if (*p == '&')
            p++;
    }
    return NULL;
}

/* ---- reading ----------------------------------------------------------------- */

/* Answer an error found while reading (before any handler ran). */
static void early_problem(struct conn *c, enum problem p, const char *detail)
{
    if (!c->req.in_flight)
        request_begin(c);
    c->state = CS_DISPATCHED;
    c->req.close_after = true;
    /* the client may still be sending (a body we refused): closing with
     * unread bytes would make the kernel reset the connection and lose
     * the answer, so read and discard for a while after answering */
    c->linger = true;
    request_problem(&c->req, p, detail, NULL, NULL);
}

/* application/json or text/csv, with at most a UTF-8 charset */
static bool media_type_ok(const char *v, size_t n, bool *csv)
{
    size_t i = 0;
    while (i < n && v[i] != ';')
        i++;
    size_t e = i;
    while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'))
        e--;
    static const char json[] = "application/json", text_csv[] = "text/csv";
    if (e == sizeof json - 1 && strncasecmp(v, json, e) == 0)
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

/* Head parsed into r->head (pointers into r->head_buf): set up the request. */
static bool setup_request(struct conn *c)
{
    struct request *r = &c->req;
    struct http_head *h = &r->head;
    const struct config *cfg = c->w->cfg;

    const struct http_header *rid = http_find_header(h, "X-Request-Id");
    if (rid && valid_request_id(rid->value, rid->value_len)) {
        memcpy(r->request_id, rid->value, rid->value_len);
        r->request_id[rid->value_len] = '\0';
        conn_set_prefix(c);
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
    r->path = strndup(h->target, plen);
    r->query = q ? strndup(q + 1, h->target_len - plen - 1) : NULL;
    if (!r->path || (q && !r->query)) {
        early_problem(c, PROBLEM_INTERNAL_ERROR, "out of memory");
        return false;
    }

    if (http_find_header(h, "Transfer-Encoding")) {
        early_problem(c, PROBLEM_LENGTH_REQUIRED,
                      "request bodies must be sent with Content-Length, not chunked");
        return false;
    }
    size_t n_cl = http_count_header(h, "Content-Length");
    if (n_cl > 1) {
        early_problem(c, PROBLEM_BAD_REQUEST, "more than one Content-Length header");
        return false;
    }
    r->content_length = 0;
    if (n_cl == 1) {
        const struct http_header *cl = http_find_header(h, "Content-Length");
        if (!http_parse_content_length(cl->value, cl->value_len, &r->content_length)) {
            early_problem(c, PROBLEM_BAD_REQUEST, "Content-Length is not a number");
            return false;
        }
    }
    int64_t limit = router_body_limit(h->method, r->path, cfg);
    if (r->content_length > (uint64_t)limit) {
        char d[128];
        snprintf(d, sizeof d, "the body may be at most %lld bytes", (long long)limit);
        early_problem(c, PROBLEM_BODY_TOO_LARGE, d);
        return false;
    }
    const struct http_header *ct = http_find_header(h, "Content-Type");
    if (r->content_length > 0 && (!ct || !media_type_ok(ct->value, ct->value_len, &r->csv))) {
        early_problem(c, PROBLEM_UNSUPPORTED_MEDIA_TYPE,
                      "request bodies must be application/json (or text/csv where a "
                      "resource takes it), UTF-8");
        return false;
    }
    const struct http_header *ex = http_find_header(h, "Expect");
    if (ex) {
        if (ex->value_len == 12 && strncasecmp(ex->value, "100-continue", 12) == 0) {
            if (r->content_length > 0)
                evbuffer_add_printf(bufferevent_get_output(c->bev),
                                    "HTTP/1.1 100 Continue\r\n\r\n");
        } else {
            early_problem(c, PROBLEM_BAD_REQUEST, "unsupported Expect header");
            return false;
        }
    }
    return true;
}

static void dispatch(struct conn *c)
{
    c->state = CS_DISPATCHED;
    evtimer_del(c->timer);
    router_dispatch(&c->req);
}

static void conn_process(struct conn *c)
{
    const struct config *cfg = c->w->cfg;
    struct request *r = &c->req;
    for (;;) {
        if (c->state == CS_LINGER) {
            struct evbuffer *lin = bufferevent_get_input(c->bev);
            evbuffer_drain(lin, evbuffer_get_length(lin));
            return;
        }
        if (c->state != CS_IDLE && c->state != CS_READ_HEAD && c->state != CS_READ_BODY)
            return;
        struct evbuffer *in = bufferevent_get_input(c->bev);
        size_t avail = evbuffer_get_length(in);
        if (c->state == CS_IDLE || c->state == CS_READ_HEAD) {
            if (avail == 0)
                return;
            if (c->state == CS_IDLE) {
                if (c->w->draining) {
                    conn_close(c, "draining");
                    return;
                }
                c->state = CS_READ_HEAD;
                request_begin(c);
                conn_arm(c, cfg->request_timeout_ms);
            }
            size_t max = (size_t)cfg->max_header_bytes;
            size_t look = avail < max + 1 ? avail : max + 1;
            const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
            if (!p) {
                early_problem(c, PROBLEM_INTERNAL_ERROR, "out of memory");
                return;
            }
            enum http_parse_status st = http_parse_head(p, look, &r->head);
            if (st == HP_OK && r->head.head_len > max)
                st = HP_TOO_MANY_HEADERS;
            switch (st) {
            case HP_INCOMPLETE:
                if (look > max)
                    early_problem(c, PROBLEM_HEADERS_TOO_LARGE,
                                  "request line and headers are too large");
                return;
            case HP_BAD_REQUEST:
                early_problem(c, PROBLEM_BAD_REQUEST, "malformed HTTP request");
                return;
            case HP_TOO_MANY_HEADERS:
                early_problem(c, PROBLEM_HEADERS_TOO_LARGE, "too many or too large headers");
                return;
            case HP_BAD_VERSION:
                early_problem(c, PROBLEM_BAD_REQUEST, "only HTTP/1.0 and HTTP/1.1 are served");
                return;
            case HP_OK:
                break;
            }
            /* keep our own copy of the head: the parse points into it */
            size_t hl = r->head.head_len;
            r->head_buf = malloc(hl + 1);
            if (!r->head_buf) {
                early_problem(c, PROBLEM_INTERNAL_ERROR, "out of memory");
                return;
            }
            evbuffer_remove(in, r->head_buf, hl);
            r->head_buf[hl] = '\0';
            if (http_parse_head(r->head_buf, hl, &r->head) != HP_OK) {
                early_problem(c, PROBLEM_BAD_REQUEST, "malformed HTTP request");
                return;
            }
            if (!setup_request(c))
                return;
            c->state = CS_READ_BODY;
            avail = evbuffer_get_length(in);
        }
        /* CS_READ_BODY */
        if (avail < r->content_length)
            return;
        size_t bl = (size_t)r->content_length;
        r->body = malloc(bl + 1);
        if (!r->body) {
            early_problem(c, PROBLEM_INTERNAL_ERROR, "out of memory");
            return;
        }
        evbuffer_remove(in, r->body, bl);
        r->body[bl] = '\0';
        r->body_len = bl;
        dispatch(c);
        return;
    }
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_process(arg);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->state == CS_STREAMING) {
        /* below the low mark: the producer may go on */
        evtimer_del(c->timer);
        drain_trampoline(-1, 0, &c->req);
        return;
    }
    if (c->state != CS_WRITING || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        return;
    bool close_after = c->req.close_after;
    request_clear(&c->req);
    if (close_after && c->linger) {
        c->state = CS_LINGER;
        conn_arm(c, LINGER_MS);
        conn_process(c);
        return;
    }
    if (close_after) {
        conn_close(c, "answered, closing");
        worker_check_drained(c->w);
        return;
    }
    c->state = CS_IDLE;
    conn_arm(c, c->w->cfg->idle_timeout_ms);
    worker_check_drained(c->w);
    if (c->state == CS_IDLE)
        conn_process(c); /* a pipelined request may be waiting */
}

static void tls_error_text(struct bufferevent *bev, char *out, size_t n)
{
    unsigned long e;
    out[0] = '\0';
    while ((e = bufferevent_get_openssl_error(bev)) != 0) {
        if (!out[0])
            ERR_error_string_n(e, out, n);
    }
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        X509 *peer = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
        if (!peer || SSL_get_verify_result(ssl) != X509_V_OK) {
            conn_close(c, "no verified client certificate");
            return;
        }
        tls_cert_fingerprint(peer, c->fingerprint);
        c->state = CS_IDLE;
        conn_arm(c, c->w->cfg->request_timeout_ms);
        log_debug("%s c%llu %s: TLS %s established", c->w->tag, (unsigned long long)c->id, c->peer,
                  SSL_get_version(ssl));
        conn_process(c);
        return;
    }
    char why[200];
    if (what & BEV_EVENT_EOF) {
        snprintf(why, sizeof why, "%s",
                 c->state == CS_HANDSHAKE ? "closed during handshake" : "closed by client");
    } else {
        char tls[160];
        tls_error_text(bev, tls, sizeof tls);
        snprintf(why, sizeof why, "%s%s%s", c->state == CS_HANDSHAKE ? "handshake failed" : "error",
                 tls[0] ? ": " : "", tls);
    }
    enum log_level lvl = c->state == CS_HANDSHAKE && !(what & BEV_EVENT_EOF) ? LOG_INFO : LOG_DEBUG;
    log_ctx(lvl, c->req.log_prefix[0] ? c->req.log_prefix : c->peer, "connection %s", why);
    bool was_in_request = c->state == CS_READ_HEAD || c->state == CS_READ_BODY;
    if (was_in_request && c->req.in_flight) {
        /* nothing was dispatched: the request just ends */
        c->req.in_flight = false;
        c->w->n_in_flight--;
    }
    conn_close(c, why);
    worker_check_drained(c->w);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    switch (c->state) {
    case CS_HANDSHAKE:
        conn_close(c, "handshake timeout");
        break;
    case CS_IDLE:
        conn_close(c, "idle timeout");
        break;
    case CS_READ_HEAD:
    case CS_READ_BODY:
        early_problem(c, PROBLEM_REQUEST_TIMEOUT, "the request was not received in time");
        return;
    case CS_WRITING:
        conn_close(c, "write timeout");
        break;
    case CS_LINGER:
        conn_close(c, "answered an error, closing");
        break;
    case CS_STREAMING:
        conn_close(c, "streamed answer not read in time");
        break;
    case CS_DISPATCHED:
    case CS_CLOSED:
        return;
    }
    worker_check_drained(c->w);
}

/* ---- lifetime ------------------------------------------------------------------ */

static void conn_close(struct conn *c, const char *reason)
{
    if (c->state != CS_CLOSED) {
        log_debug("%s c%llu %s: close: %s", c->w->tag, (unsigned long long)c->id, c->peer, reason);
        if (c->bev) {
            bufferevent_free(c->bev); /* closes the socket and frees the SSL */
            c->bev = NULL;
        }
        evtimer_del(c->timer);
    }
    bool handler_running =
        (c->state == CS_DISPATCHED || c->state == CS_STREAMING) && c->req.in_flight;
    bool was_streaming = c->state == CS_STREAMING;
    c->state = CS_CLOSED;
    if (was_streaming && c->req.drain_cb)
        event_base_once(c->w->base, -1, EV_TIMEOUT, drain_trampoline, &c->req, NULL);
    if (handler_running || c->on_reap)
        return; /* freed when the handler answers */
    c->on_reap = true;
    TAILQ_REMOVE(&c->w->conns, c, link);
    TAILQ_INSERT_TAIL(&c->w->reap, c, link);
    event_active(c->w->ev_reap, EV_READ, 0);
}

static void conn_free(struct conn *c)
{
    request_clear(&c->req);
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->timer)
        event_free(c->timer);
    c->w->n_conns--;
    free(c);
}

void conn_reap(struct worker *w)
{
    struct conn *c;
    while ((c = TAILQ_FIRST(&w->reap))) {
        TAILQ_REMOVE(&w->reap, c, link);
        conn_free(c);
    }
}

void conn_accept(struct worker *w, int fd, const struct sockaddr *sa, int salen)
{
    (void)salen;
    const struct config *cfg = w->cfg;
    if ((int64_t)w->n_conns >= cfg->max_connections || w->draining) {
        log_warn("%s: connection refused: %s", w->tag,
                 w->draining ? "shutting down" : "max_connections reached");
        close(fd);
        return;
    }
    struct conn *c = calloc(1, sizeof *c);
    SSL *ssl = c ? tls_new_ssl() : NULL;
    if (!ssl) {
        log_error("%s: cannot set up a connection (memory or TLS)", w->tag);
        free(c);
        close(fd);
        return;
    }
    c->w = w;
    c->id = ++w->next_conn_id;
    c->req.conn = c;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
    snprintf(c->req.log_prefix, sizeof c->req.log_prefix, "%s c%llu %s", w->tag,
             (unsigned long long)c->id, c->peer);
    c->bev = bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    c->timer = evtimer_new(w->base, conn_timer_cb, c);
    if (!c->bev || !c->timer) {
        log_error("%s: cannot set up a connection (memory)", w->tag);
        if (c->bev)
            bufferevent_free(c->bev);
        else {
            SSL_free(ssl);
            close(fd);
        }
        if (c->timer)
            event_free(c->timer);
        free(c);
        return;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    /* bound what a client can pile up behind a request being handled */
    int64_t body_max = cfg->max_bulk_body_bytes > cfg->max_body_bytes ? cfg->max_bulk_body_bytes
                                                                      : cfg->max_body_bytes;
    bufferevent_setwatermark(c->bev, EV_READ, 0, (size_t)(cfg->max_header_bytes + body_max + 4096));
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->state = CS_HANDSHAKE;
    conn_arm(c, cfg->request_timeout_ms);
    w->n_conns++;
    TAILQ_INSERT_TAIL(&w->conns, c, link);
}

void conn_drain_all(struct worker *w)
{
    struct conn *c, *next;
    for (c = TAILQ_FIRST(&w->conns); c; c = next) {
        next = TAILQ_NEXT(c, link);
        if (c->state == CS_IDLE || c->state == CS_HANDSHAKE)
            conn_close(c, "shutting down");
        else
            c->req.close_after = true;
    }
}

void conn_free_all(struct worker *w)
{
    struct conn *c;
    while ((c = TAILQ_FIRST(&w->conns))) {
        TAILQ_REMOVE(&w->conns, c, link);
        conn_free(c);
    }
    conn_reap(w);
}
