/*
 * framing: from bytes to requests and back to the next request.
 */
#include "http/framing.h"

#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "base/config.h"
#include "base/mem.h"
#include "http/exchange.h"
#include "http/router.h"
#include "net/conn.h"

struct http_conn {
    struct conn *c;
    struct request *req; /* the one being received or answered, or NULL */
    struct http_conn_keep keep;
};

struct http_conn_keep *http_conn_keep(struct http_conn *hc)
{
    return &hc->keep;
}

static void end_request(struct http_conn *hc)
{
    request_free(hc->req);
    hc->req = NULL;
}

void http_conn_finish(struct http_conn *hc)
{
    struct conn *c = hc->c;
    end_request(hc);
    conn_set_state(c, CS_CLOSED);
    conn_check_drained(c);
}

static void *http_open(struct conn *c)
{
    struct http_conn *hc = xcalloc(1, sizeof *hc);
    hc->c = c;
    return hc;
}

static void http_release(void *arg)
{
    struct http_conn *hc = arg;
    end_request(hc);
    if (hc->keep.auth_data && hc->keep.auth_free)
        hc->keep.auth_free(hc->keep.auth_data);
    free(hc);
}

static void http_readable(void *arg)
{
    struct http_conn *hc = arg;
    struct conn *c = hc->c;
    const struct config *cfg = conn_config(c);
    enum conn_state st = conn_state(c);
    if (st != CS_IDLE && st != CS_READ_HEAD && st != CS_READ_BODY)
        return;
    struct evbuffer *in = conn_input(c);
    size_t avail = evbuffer_get_length(in);
    if (st == CS_IDLE || st == CS_READ_HEAD) {
        if (avail == 0)
            return;
        if (st == CS_IDLE) {
            /* also when draining: a request that reached us is answered
             * (with Connection: close), never dropped */
            conn_set_state(c, CS_READ_HEAD);
            hc->req = request_new(c, hc);
        }
        struct request *r = hc->req;
        size_t max = (size_t)cfg->max_header_bytes;
        size_t look = avail < max + 1 ? avail : max + 1;
        const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
        ASSERT(p != NULL);
        struct http_head head;
        enum http_parse_status ps = http_parse_head(p, look, &head);
        if (ps == HP_OK && head.head_len > max)
            ps = HP_TOO_MANY_HEADERS;
        switch (ps) {
        case HP_INCOMPLETE:
            if (look > max)
                request_early_problem(r, PROBLEM_HEADERS_TOO_LARGE,
                                      "request line and headers are too large");
            return;
        case HP_BAD_REQUEST:
            request_early_problem(r, PROBLEM_BAD_REQUEST, "malformed HTTP request");
            return;
        case HP_TOO_MANY_HEADERS:
            request_early_problem(r, PROBLEM_HEADERS_TOO_LARGE, "too many or too large headers");
            return;
        case HP_BAD_VERSION:
            request_early_problem(r, PROBLEM_BAD_REQUEST, "only HTTP/1.0 and HTTP/1.1 are served");
            return;
        case HP_OK:
            break;
        }
        enum problem prob;
        char detail[160];
        bool ok = request_take_head(r, p, &head, &prob, detail, sizeof detail);
        evbuffer_drain(in, head.head_len);
        if (!ok) {
            request_early_problem(r, prob, detail);
            return;
        }
        if (request_expects_continue(r))
            evbuffer_add_printf(conn_output(c), "HTTP/1.1 100 Continue\r\n\r\n");
        conn_set_state(c, CS_READ_BODY);
        avail = evbuffer_get_length(in);
    }
    struct request *r = hc->req;
    if (avail < request_content_length(r))
        return;
    request_take_body(r, in);
    conn_set_state(c, CS_DISPATCHED);
    router_dispatch(r);
}

/* the answer is flushed: the next request, or the end */
static void flushed(struct http_conn *hc)
{
    struct conn *c = hc->c;
    /* the answer said whether the connection goes on; when draining it
     * said close unless the client had already sent more (that request
     * is answered next), and a connection kept open is closed after a
     * short grace (conn_drain_all) */
    bool close_after = request_close_after(hc->req);
    bool linger = request_lingers(hc->req);
    end_request(hc);
    if (close_after && linger) {
        conn_set_state(c, CS_LINGER);
        return;
    }
    if (close_after) {
        conn_close(c, "answered, closing");
        conn_check_drained(c);
        return;
    }
    conn_set_state(c, CS_IDLE);
    conn_check_drained(c);
    if (conn_state(c) == CS_IDLE)
        http_readable(hc); /* a pipelined request may be waiting */
}

static void http_writable(void *arg)
{
    struct http_conn *hc = arg;
    if (conn_state(hc->c) == CS_STREAMING)
        request_stream_drained(hc->req);
    else if (conn_state(hc->c) == CS_WRITING)
        flushed(hc);
}

static void http_timeout(void *arg)
{
    struct http_conn *hc = arg;
    request_early_problem(hc->req, PROBLEM_REQUEST_TIMEOUT, "the request was not received in time");
}

static void http_closed(void *arg)
{
    struct http_conn *hc = arg;
    if (hc->req)
        request_client_left(hc->req);
}

static const struct conn_protocol http = {
    .open = http_open,
    .readable = http_readable,
    .writable = http_writable,
    .timeout = http_timeout,
    .closed = http_closed,
    .release = http_release,
};

const struct conn_protocol *http_protocol(void)
{
    return &http;
}
