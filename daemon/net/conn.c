/*
 * conn: TLS connections on libevent bufferevents, their timer and their
 * state.
 *
 * States: HANDSHAKE -> IDLE -> READ_HEAD -> READ_BODY -> DISPATCHED ->
 * (STREAMING ->) WRITING -> IDLE (keep-alive) ... -> CLOSED. One request at
 * a time; bytes a client pipelines behind it stay buffered (bounded by the
 * read watermark) until the answer is flushed. One timer per connection
 * bounds the handshake and the reception of a request (request_timeout_ms),
 * the keep-alive idle time (idle_timeout_ms) and a stalled write; it is
 * armed only by conn_set_state() (and conn_wait_writable for a stream).
 */
#include "net/conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "base/mem.h"
#include "net/tls.h"
#include "net/worker.h"

/* how long to read and discard after an error answer before closing */
#define LINGER_MS 1000

struct conn {
    struct worker *w;
    struct conn_set *set;
    uint64_t id;
    enum conn_state state;
    struct bufferevent *bev;
    struct event *timer;
    char peer[64];
    char label[96];
    char fingerprint[TLS_FINGERPRINT_LEN + 1];
    void *proto; /* the protocol's, from open() */
    bool on_reap;
    TAILQ_ENTRY(conn) link;
};

TAILQ_HEAD(conn_list, conn);

struct conn_set {
    struct worker *w;
    struct conn_list conns; /* open, or waiting for a handler's answer */
    struct conn_list reap;  /* closed, freed after the current loop turn */
    size_t n_conns;
    size_t n_in_flight; /* requests received or being handled */
    uint64_t next_id;
};

static const struct conn_protocol *protocol;

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);

void conn_set_protocol(const struct conn_protocol *p)
{
    protocol = p;
}

static void conn_arm(struct conn *c, int64_t ms)
{
    struct timeval tv = clock_tv(ms);
    evtimer_add(c->timer, &tv);
}

/* ---- the state machine ------------------------------------------------------ */

#define BIT(s) (1u << (s))

/* for each state, the states it may go to */
static const unsigned next_ok[] = {
    [CS_HANDSHAKE] = BIT(CS_IDLE) | BIT(CS_CLOSED),
    [CS_IDLE] = BIT(CS_READ_HEAD) | BIT(CS_CLOSED),
    [CS_READ_HEAD] = BIT(CS_READ_BODY) | BIT(CS_DISPATCHED) | BIT(CS_CLOSED),
    [CS_READ_BODY] = BIT(CS_DISPATCHED) | BIT(CS_CLOSED),
    [CS_DISPATCHED] = BIT(CS_WRITING) | BIT(CS_STREAMING) | BIT(CS_ORPHAN),
    [CS_STREAMING] = BIT(CS_WRITING) | BIT(CS_ORPHAN),
    [CS_WRITING] = BIT(CS_IDLE) | BIT(CS_LINGER) | BIT(CS_CLOSED),
    [CS_LINGER] = BIT(CS_CLOSED),
    [CS_ORPHAN] = BIT(CS_CLOSED),
    [CS_CLOSED] = 0,
};

/* a request is in flight from its first byte to its answer (or the end of
 * the connection while it was still being received) */
static bool in_flight(enum conn_state s)
{
    return s == CS_READ_HEAD || s == CS_READ_BODY || s == CS_DISPATCHED || s == CS_STREAMING ||
           s == CS_ORPHAN;
}

void conn_set_state(struct conn *c, enum conn_state s)
{
    enum conn_state old = c->state;
    ASSERT(next_ok[old] & BIT(s));
    c->state = s;
    if (!in_flight(old) && in_flight(s))
        c->set->n_in_flight++;
    else if (in_flight(old) && !in_flight(s))
        c->set->n_in_flight--; /* the one place a request stops counting */

    const struct config *cfg = worker_config(c->w);
    switch (s) {
    case CS_HANDSHAKE:
        break;
    case CS_IDLE:
        conn_arm(c, old == CS_HANDSHAKE ? cfg->request_timeout_ms : cfg->idle_timeout_ms);
        break;
    case CS_READ_HEAD:
        conn_arm(c, cfg->request_timeout_ms);
        break;
    case CS_READ_BODY: /* the request timer goes on */
    case CS_STREAMING: /* armed while waiting for the client (conn_wait_writable) */
        break;
    case CS_DISPATCHED:
        evtimer_del(c->timer);
        break;
    case CS_WRITING:
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        conn_arm(c, cfg->request_timeout_ms);
        bufferevent_enable(c->bev, EV_WRITE);
        break;
    case CS_LINGER: {
        conn_arm(c, LINGER_MS);
        struct evbuffer *in = bufferevent_get_input(c->bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        break;
    }
    case CS_ORPHAN:
    case CS_CLOSED:
        if (c->bev) {
            bufferevent_free(c->bev); /* closes the socket and frees the SSL */
            c->bev = NULL;
        }
        evtimer_del(c->timer);
        if (s == CS_CLOSED && !c->on_reap) {
            c->on_reap = true;
            TAILQ_REMOVE(&c->set->conns, c, link);
            TAILQ_INSERT_TAIL(&c->set->reap, c, link);
            worker_schedule_reap(c->w);
        }
        break;
    }
}

enum conn_state conn_state(const struct conn *c)
{
    return c->state;
}

void conn_close(struct conn *c, const char *reason)
{
    if (c->state == CS_ORPHAN || c->state == CS_CLOSED)
        return;
    log_debug("%s: close: %s", c->label, reason);
    bool handler_running = c->state == CS_DISPATCHED || c->state == CS_STREAMING;
    conn_set_state(c, handler_running ? CS_ORPHAN : CS_CLOSED);
    if (handler_running && c->proto)
        protocol->closed(c->proto);
}

void conn_wait_writable(struct conn *c)
{
    /* a client that stops reading does not hold the stream for ever */
    if (c->state == CS_STREAMING)
        conn_arm(c, worker_config(c->w)->request_timeout_ms);
}

void conn_set_write_low(struct conn *c, size_t low)
{
    if (!c->bev)
        return;
    bufferevent_setwatermark(c->bev, EV_WRITE, low, 0);
    bufferevent_enable(c->bev, EV_WRITE);
}

/* ---- accessors ------------------------------------------------------------------ */

struct evbuffer *conn_input(struct conn *c)
{
    return c->bev ? bufferevent_get_input(c->bev) : NULL;
}
struct evbuffer *conn_output(struct conn *c)
{
    return c->bev ? bufferevent_get_output(c->bev) : NULL;
}
size_t conn_output_length(const struct conn *c)
{
    return c->bev ? evbuffer_get_length(bufferevent_get_output(c->bev)) : 0;
}
const struct config *conn_config(const struct conn *c)
{
    return worker_config(c->w);
}
struct event_base *conn_base(const struct conn *c)
{
    return worker_base(c->w);
}
void *conn_app(const struct conn *c)
{
    return worker_app(c->w);
}
bool conn_draining(const struct conn *c)
{
    return worker_draining(c->w);
}
const char *conn_label(const struct conn *c)
{
    return c->label;
}
void conn_check_drained(struct conn *c)
{
    worker_check_drained(c->w);
}
const char *conn_fingerprint(const struct conn *c)
{
    return c->fingerprint;
}

/* ---- events ----------------------------------------------------------------------- */

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->state == CS_LINGER) {
        struct evbuffer *in = bufferevent_get_input(bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    if (c->state == CS_IDLE || c->state == CS_READ_HEAD || c->state == CS_READ_BODY)
        protocol->readable(c->proto);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->state == CS_STREAMING) {
        /* below the low mark: the producer may go on */
        evtimer_del(c->timer);
        protocol->writable(c->proto);
        return;
    }
    if (c->state == CS_WRITING && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        protocol->writable(c->proto);
}

/* handshake done (or a plain connection adopted): the protocol takes over */
static void conn_ready(struct conn *c)
{
    conn_set_state(c, CS_IDLE);
    c->proto = protocol->open(c);
    protocol->readable(c->proto);
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
        log_debug("%s: TLS %s established", c->label, SSL_get_version(ssl));
        conn_ready(c);
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
    log_ctx(lvl, c->label, "connection %s", why);
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
        protocol->timeout(c->proto);
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
    case CS_ORPHAN:
    case CS_CLOSED:
        return;
    }
    worker_check_drained(c->w);
}

/* ---- lifetime ------------------------------------------------------------------ */

static void conn_free(struct conn *c)
{
    if (c->proto)
        protocol->release(c->proto);
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->timer)
        event_free(c->timer);
    c->set->n_conns--;
    free(c);
}

struct conn_set *conn_set_new(struct worker *w)
{
    struct conn_set *s = xcalloc(1, sizeof *s);
    s->w = w;
    TAILQ_INIT(&s->conns);
    TAILQ_INIT(&s->reap);
    return s;
}

bool conn_set_empty(const struct conn_set *s)
{
    return TAILQ_EMPTY(&s->conns);
}

size_t conn_set_in_flight(const struct conn_set *s)
{
    return s->n_in_flight;
}

void conn_reap(struct worker *w)
{
    struct conn_set *s = worker_conns(w);
    struct conn *c;
    while ((c = TAILQ_FIRST(&s->reap))) {
        TAILQ_REMOVE(&s->reap, c, link);
        conn_free(c);
    }
}

void conn_set_free(struct conn_set *s)
{
    if (!s)
        return;
    struct conn *c;
    while ((c = TAILQ_FIRST(&s->conns))) {
        TAILQ_REMOVE(&s->conns, c, link);
        conn_free(c);
    }
    while ((c = TAILQ_FIRST(&s->reap))) {
        TAILQ_REMOVE(&s->reap, c, link);
        conn_free(c);
    }
    free(s);
}

static struct conn *conn_new(struct worker *w, const char *peer)
{
    struct conn_set *s = worker_conns(w);
    struct conn *c = xcalloc(1, sizeof *c);
    c->w = w;
    c->set = s;
    c->id = ++s->next_id;
    c->state = CS_HANDSHAKE;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    snprintf(c->label, sizeof c->label, "%s c%llu %s", worker_tag(w), (unsigned long long)c->id,
             c->peer);
    c->timer = evtimer_new(worker_base(w), conn_timer_cb, c);
    return c;
}

static void conn_start(struct conn *c)
{
    const struct config *cfg = worker_config(c->w);
    /* bound what a client can pile up behind a request being handled */
    int64_t body_max = cfg->max_bulk_body_bytes > cfg->max_body_bytes ? cfg->max_bulk_body_bytes
                                                                      : cfg->max_body_bytes;
    bufferevent_setwatermark(c->bev, EV_READ, 0, (size_t)(cfg->max_header_bytes + body_max + 4096));
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    conn_arm(c, cfg->request_timeout_ms);
    c->set->n_conns++;
    TAILQ_INSERT_TAIL(&c->set->conns, c, link);
}

void conn_accept(struct worker *w, int fd, const struct sockaddr *sa, int salen)
{
    (void)salen;
    const struct config *cfg = worker_config(w);
    struct conn_set *s = worker_conns(w);
    if ((int64_t)s->n_conns >= cfg->max_connections || worker_draining(w)) {
        log_warn("%s: connection refused: %s", worker_tag(w),
                 worker_draining(w) ? "shutting down" : "max_connections reached");
        close(fd);
        return;
    }
    SSL *ssl = tls_new_ssl();
    if (!ssl) {
        log_error("%s: cannot set up a connection (memory or TLS)", worker_tag(w));
        close(fd);
        return;
    }
    char host[INET6_ADDRSTRLEN] = "?", peer[64];
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
    snprintf(peer, sizeof peer, "%s:%d", host, port);
    struct conn *c = conn_new(w, peer);
    c->bev = bufferevent_openssl_socket_new(worker_base(w), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev || !c->timer) {
        log_error("%s: cannot set up a connection (memory)", worker_tag(w));
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
    conn_start(c);
}

struct conn *conn_adopt(struct worker *w, struct bufferevent *bev, const char *peer,
                        const char *fingerprint)
{
    struct conn *c = conn_new(w, peer);
    ASSERT(c->timer != NULL);
    c->bev = bev;
    snprintf(c->fingerprint, sizeof c->fingerprint, "%s", fingerprint);
    conn_start(c);
    conn_ready(c);
    return c;
}

void conn_drain_all(struct worker *w)
{
    struct conn_set *s = worker_conns(w);
    struct conn *c, *next;
    /* busy connections finish their request and close (conn_draining) */
    for (c = TAILQ_FIRST(&s->conns); c; c = next) {
        next = TAILQ_NEXT(c, link);
        if (c->state == CS_IDLE || c->state == CS_HANDSHAKE)
            conn_close(c, "shutting down");
    }
}
