/*
 * ops: the operator listener (see ops.h).
 */
#include "ops/ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "base/config.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "http/http_parse.h"
#include "net/server.h"
#include "ops/prom.h"

#define OPS_MAX_HEAD  8192
#define OPS_MAX_CONNS 32
#define OPS_TIMEOUT_S 5

struct ops_conn {
    struct bufferevent *bev;
    bool answered;
    LIST_ENTRY(ops_conn) link;
};

static struct evconnlistener *listener;
static LIST_HEAD(, ops_conn) conns = LIST_HEAD_INITIALIZER(conns);
static int n_conns;

static void ops_conn_free(struct ops_conn *c)
{
    LIST_REMOVE(c, link);
    bufferevent_free(c->bev);
    free(c);
    n_conns--;
}

static void respond(struct ops_conn *c, int status, const char *reason, const char *type,
                    struct evbuffer *body, bool head_only)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t len = body ? evbuffer_get_length(body) : 0;
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                        "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                        status, reason, type, len);
    if (body && !head_only)
        evbuffer_add_buffer(out, body);
    c->answered = true;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_enable(c->bev, EV_WRITE);
}

static void respond_text(struct ops_conn *c, int status, const char *reason, const char *text,
                         bool head_only)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        ops_conn_free(c);
        return;
    }
    evbuffer_add_printf(b, "%s\n", text);
    respond(c, status, reason, "text/plain; charset=utf-8", b, head_only);
    evbuffer_free(b);
}

/* why the daemon is not ready, or NULL when it is */
static const char *not_ready(char *buf, size_t n)
{
    if (server_draining())
        return "draining";
    int64_t pools = metrics_gauge(MG_POOLS), down = metrics_gauge(MG_POOLS_DOWN);
    if (pools == 0)
        return "starting";
    if (down > 0) {
        snprintf(buf, n, "database unreachable (%lld of %lld worker pools without a connection)",
                 (long long)down, (long long)pools);
        return buf;
    }
    return NULL;
}

static void serve(struct ops_conn *c, const struct http_head *h)
{
    bool head_only = h->method == HM_HEAD;
    char path[64];
    size_t plen = h->target_len;
    const char *q = memchr(h->target, '?', plen);
    if (q)
        plen = (size_t)(q - h->target);
    snprintf(path, sizeof path, "%.*s", (int)(plen < sizeof path ? plen : sizeof path - 1),
             h->target);
    bool known =
        plen < sizeof path && (strcmp(path, "/metrics") == 0 || strcmp(path, "/healthz") == 0 ||
                               strcmp(path, "/readyz") == 0);
    if (!known) {
        respond_text(c, 404, "Not Found", "not found (try /metrics, /healthz, /readyz)", head_only);
        return;
    }
    if (h->method != HM_GET && h->method != HM_HEAD) {
        struct evbuffer *out = bufferevent_get_output(c->bev);
        evbuffer_add_printf(out, "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"
                                 "Content-Length: 0\r\nConnection: close\r\n\r\n");
        c->answered = true;
        bufferevent_disable(c->bev, EV_READ);
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        respond_text(c, 200, "OK", "ok", head_only);
    } else if (strcmp(path, "/readyz") == 0) {
        char buf[160];
        const char *why = not_ready(buf, sizeof buf);
        if (why)
            respond_text(c, 503, "Service Unavailable", why, head_only);
        else
            respond_text(c, 200, "OK", "ready", head_only);
    } else {
        struct metrics_snapshot *snap = xmalloc(sizeof *snap);
        struct evbuffer *b = evbuffer_new();
        if (!b) {
            free(snap);
            ops_conn_free(c);
            return;
        }
        metrics_snapshot(snap);
        prom_render(snap, b);
        free(snap);
        respond(c, 200, "OK", PROM_CONTENT_TYPE, b, head_only);
        evbuffer_free(b);
    }
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct ops_conn *c = arg;
    if (c->answered)
        return;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    size_t n = len < OPS_MAX_HEAD ? len : OPS_MAX_HEAD;
    const char *buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
    struct http_head h;
    enum http_parse_status st = http_parse_head(buf, n, &h);
    if (st == HP_INCOMPLETE && len < OPS_MAX_HEAD)
        return;
    if (st == HP_OK)
        serve(c, &h);
    else if (st == HP_INCOMPLETE || st == HP_TOO_MANY_HEADERS)
        respond_text(c, 431, "Request Header Fields Too Large", "request head too large", false);
    else
        respond_text(c, 400, "Bad Request", "bad request", false);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct ops_conn *c = arg;
    if (c->answered && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        ops_conn_free(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what; /* EOF, error or timeout: nothing to say to that client */
    ops_conn_free(arg);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)sa;
    (void)salen;
    (void)arg;
    if (n_conns >= OPS_MAX_CONNS) {
        evutil_closesocket(fd);
        return;
    }
    struct event_base *base = evconnlistener_get_base(l);
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    struct ops_conn *c = xcalloc(1, sizeof *c);
    c->bev = bev;
    LIST_INSERT_HEAD(&conns, c, link);
    n_conns++;
    struct timeval tv = {OPS_TIMEOUT_S, 0};
    bufferevent_set_timeouts(bev, &tv, &tv);
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
    bufferevent_enable(bev, EV_READ);
}

bool ops_start(struct event_base *base, const struct config *cfg)
{
    if (!*cfg->ops_listen) {
        log_info("operator listener off (ops_listen is empty)");
        return true;
    }
    struct sockaddr_storage ss;
    int sl = (int)sizeof ss;
    if (evutil_parse_sockaddr_port(cfg->ops_listen, (struct sockaddr *)&ss, &sl) != 0) {
        log_error("ops_listen: \"%s\" is not address:port", cfg->ops_listen);
        return false;
    }
    listener = evconnlistener_new_bind(
        base, accept_cb, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        64, (struct sockaddr *)&ss, sl);
    if (!listener) {
        log_error("ops_listen %s: %s", cfg->ops_listen, strerror(errno));
        return false;
    }
    log_info("operator listener on http://%s (/metrics, /healthz, /readyz)", cfg->ops_listen);
    return true;
}

void ops_stop(void)
{
    if (listener)
        evconnlistener_free(listener);
    listener = NULL;
    while (!LIST_EMPTY(&conns))
        ops_conn_free(LIST_FIRST(&conns));
}
