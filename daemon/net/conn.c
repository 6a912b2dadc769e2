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
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
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
#include "base/metrics.h"
#include "net/proxy.h"
#include "net/tls.h"
#include "net/worker.h"

/* how long to read and discard after an error answer before closing */
#define LINGER_MS 1000
/* on SIGTERM, how long an idle keep-alive connection stays open for a
 * request its client may already have sent (bounded by shutdown_timeout_ms) */
#define DRAIN_IDLE_GRACE_MS 1000

/* the peer address, the key of max_handshakes_per_address (on
 * proxy_listen, the client's address its PROXY header gives) */
struct conn_addr {
    sa_family_t family;
    unsigned char bytes[16];
};

/* proxy_listen: the PROXY v2 header being read off the socket, before any
 * TLS (read exactly: not a byte of the ClientHello behind it) */
struct proxy_wait {
    int fd;
    struct event *ev;
    size_t have;
    unsigned char buf[PROXY_V2_MAX];
};

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
    bool tls_up; /* handshake done, no TLS error since: say goodbye on close */
    struct conn_addr addr;
    struct proxy_wait *pw; /* proxy_listen, until the header is read */
    TAILQ_ENTRY(conn) link;
    TAILQ_ENTRY(conn) hs_link; /* in set->handshakes while HANDSHAKE */
};

TAILQ_HEAD(conn_list, conn);

struct conn_set {
    struct worker *w;
    struct conn_list conns;      /* open, or waiting for a handler's answer */
    struct conn_list reap;       /* closed, freed after the current loop turn */
    struct conn_list handshakes; /* HANDSHAKE, oldest first */
    size_t n_handshakes;
    size_t n_conns;      /* in conns */
    size_t n_in_flight;  /* requests received or being handled */
    uint64_t n_requests; /* requests received since the start */
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

/* the header read (close_fd: the connection ends too) */
static void proxy_wait_end(struct conn *c, bool close_fd)
{
    if (!c->pw)
        return;
    if (c->pw->ev)
        event_free(c->pw->ev);
    if (close_fd)
        close(c->pw->fd);
    free(c->pw);
    c->pw = NULL;
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

static bool draining_now(const struct conn *c)
{
    return worker_draining(c->w);
}

/* the idle time left: on SIGTERM only a short grace (see conn_drain_all) */
static int64_t idle_ms(const struct conn *c, int64_t normal)
{
    if (!draining_now(c))
        return normal;
    int64_t grace = worker_config(c->w)->shutdown_timeout_ms;
    if (grace > DRAIN_IDLE_GRACE_MS)
        grace = DRAIN_IDLE_GRACE_MS;
    return grace < normal ? grace : normal;
}

/* a clean end of the TLS session (close_notify) before the socket closes,
 * so the client can tell a close between requests from a lost answer */
static void tls_goodbye(struct conn *c)
{
    if (!c->tls_up || !c->bev)
        return;
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    if (ssl) {
        ERR_clear_error();
        (void)SSL_shutdown(ssl); /* non-blocking: best effort */
        ERR_clear_error();
    }
}

void conn_set_state(struct conn *c, enum conn_state s)
{
    enum conn_state old = c->state;
    ASSERT(next_ok[old] & BIT(s));
    c->state = s;
    metrics_conn_state((int)old, (int)s);
    if (old == CS_HANDSHAKE) {
        TAILQ_REMOVE(&c->set->handshakes, c, hs_link);
        c->set->n_handshakes--;
    }
    if (!in_flight(old) && in_flight(s)) {
        c->set->n_in_flight++;
        c->set->n_requests++;
    } else if (in_flight(old) && !in_flight(s))
        c->set->n_in_flight--; /* the one place a request stops counting */

    const struct config *cfg = worker_config(c->w);
    switch (s) {
    case CS_HANDSHAKE:
        break;
    case CS_IDLE:
        conn_arm(c,
                 idle_ms(c, old == CS_HANDSHAKE ? cfg->request_timeout_ms : cfg->idle_timeout_ms));
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
        proxy_wait_end(c, true);
        if (c->bev) {
            if (s == CS_CLOSED && (old == CS_IDLE || old == CS_WRITING || old == CS_LINGER))
                tls_goodbye(c);
            bufferevent_free(c->bev); /* closes the socket and frees the SSL */
            c->bev = NULL;
        }
        evtimer_del(c->timer);
        if (s == CS_CLOSED && !c->on_reap) {
            c->on_reap = true;
            TAILQ_REMOVE(&c->set->conns, c, link);
            c->set->n_conns--;
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

const char *conn_state_name(enum conn_state s)
{
    static const char *const names[] = {
        [CS_HANDSHAKE] = "handshake", [CS_IDLE] = "idle",          [CS_READ_HEAD] = "read_head",
        [CS_READ_BODY] = "read_body", [CS_DISPATCHED] = "handled", [CS_STREAMING] = "streaming",
        [CS_WRITING] = "writing",     [CS_LINGER] = "linger",      [CS_ORPHAN] = "orphan",
        [CS_CLOSED] = "closed",
    };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : NULL;
}

bool conn_state_in_flight(enum conn_state s)
{
    return in_flight(s);
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
            worker_note(c->w, WN_HS_FAILED, "no verified client certificate");
            conn_close(c, "no verified client certificate");
            return;
        }
        tls_cert_fingerprint(peer, c->fingerprint);
        c->tls_up = true;
        log_debug("%s: TLS %s established", c->label, SSL_get_version(ssl));
        conn_ready(c);
        return;
    }
    c->tls_up = false; /* no close_notify after an error or the client's close */
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
    /* a flood of bad handshakes is counted, not logged one by one */
    if (c->state == CS_HANDSHAKE)
        worker_note(c->w, WN_HS_FAILED, why);
    log_ctx(LOG_DEBUG, c->label, "connection %s", why);
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
        if (c->pw) {
            worker_note(c->w, WN_PROXY_BAD, "PROXY header not received in time");
            conn_close(c, "PROXY header timeout");
            break;
        }
        worker_note(c->w, WN_HS_TIMEOUT, NULL);
        conn_close(c, "handshake timeout");
        break;
    case CS_IDLE:
        conn_close(c, draining_now(c) ? "shutting down (idle)" : "idle timeout");
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
    proxy_wait_end(c, true);
    if (c->proto)
        protocol->release(c->proto);
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->timer)
        event_free(c->timer);
    metrics_conn_state((int)c->state, -1);
    if (!c->on_reap)
        c->set->n_conns--;
    free(c);
}

struct conn_set *conn_set_new(struct worker *w)
{
    struct conn_set *s = xcalloc(1, sizeof *s);
    s->w = w;
    TAILQ_INIT(&s->conns);
    TAILQ_INIT(&s->reap);
    TAILQ_INIT(&s->handshakes);
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

size_t conn_set_count(const struct conn_set *s)
{
    return s->n_conns;
}

uint64_t conn_set_requests(const struct conn_set *s)
{
    return s->n_requests;
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
        if (c->state == CS_HANDSHAKE)
            TAILQ_REMOVE(&s->handshakes, c, hs_link);
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

static void conn_start_bev(struct conn *c)
{
    const struct config *cfg = worker_config(c->w);
    /* bound what a client can pile up behind a request being handled */
    int64_t body_max = cfg->max_bulk_body_bytes > cfg->max_body_bytes ? cfg->max_bulk_body_bytes
                                                                      : cfg->max_body_bytes;
    bufferevent_setwatermark(c->bev, EV_READ, 0, (size_t)(cfg->max_header_bytes + body_max + 4096));
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* (no bufferevent yet while a PROXY header is read) */
static void conn_start(struct conn *c, int64_t first_timeout_ms)
{
    if (c->bev)
        conn_start_bev(c);
    conn_arm(c, first_timeout_ms);
    metrics_inc(MC_CONN_OPENED);
    metrics_conn_state(-1, (int)c->state);
    c->set->n_conns++;
    TAILQ_INSERT_TAIL(&c->set->conns, c, link);
    if (c->state == CS_HANDSHAKE) {
        TAILQ_INSERT_TAIL(&c->set->handshakes, c, hs_link);
        c->set->n_handshakes++;
    }
}

static void addr_of(const struct sockaddr *sa, struct conn_addr *a)
{
    memset(a, 0, sizeof *a);
    a->family = sa->sa_family;
    if (sa->sa_family == AF_INET)
        memcpy(a->bytes, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    else if (sa->sa_family == AF_INET6)
        memcpy(a->bytes, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
}

static bool addr_eq(const struct conn_addr *a, const struct conn_addr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

/* No ClientHello yet: a real client sends it with its first packet; a
 * socket that sits silent or trickles it is the cheapest thing to drop. */
static bool hello_pending(const struct conn *c)
{
    if (c->pw)
        return true; /* still reading the PROXY header */
    SSL *ssl = c->bev ? bufferevent_openssl_get_ssl(c->bev) : NULL;
    /* the server's state stays BEFORE until a whole ClientHello is read
     * (SSL_in_before() would also say "not yet driven": a new conn) */
    return ssl && SSL_get_state(ssl) == TLS_ST_BEFORE;
}

/* Silent: no whole ClientHello read and nothing waiting in the socket
 * either. In a burst of new connections the loop accepts the next one before
 * it has read the ClientHello of the previous ones, which is then waiting in
 * the kernel's buffer: those are real clients, not silent sockets. */
static bool silent(const struct conn *c)
{
    if (!hello_pending(c))
        return false;
    int fd = c->pw ? c->pw->fd : c->bev ? bufferevent_getfd(c->bev) : -1;
    int waiting = 0;
    return fd < 0 || ioctl(fd, FIONREAD, &waiting) != 0 || waiting == 0;
}

/* The unfinished handshake to close (of addr, or any when addr is NULL):
 * the oldest silent one; else, with any_active, the oldest (NULL when
 * there is none to close). */
static struct conn *victim(struct conn_set *s, const struct conn_addr *addr, bool any_active,
                           const struct conn *self)
{
    struct conn *c, *oldest = NULL;
    TAILQ_FOREACH(c, &s->handshakes, hs_link)
    {
        if (c == self || (addr && !addr_eq(&c->addr, addr)))
            continue;
        if (silent(c))
            return c;
        if (!oldest)
            oldest = c;
    }
    return any_active ? oldest : NULL;
}

/* Make room for a new connection from addr. Connections that have not
 * finished their handshake are the cheap ones to open: an attacker can
 * hold any number of them, so a full cap never refuses the newcomer (that
 * would lock every real client out) but closes an unfinished handshake:
 * one of the same address first, then any; the oldest silent one (no
 * ClientHello, nothing waiting), else the oldest. A real client has sent
 * its ClientHello within a millisecond, and then goes only after every
 * silent or trickling socket. The cap of one address is a matter of
 * fairness: it closes only its silent sockets, never a handshake in
 * progress (many real clients may share an address behind a NAT); the
 * cap of the worker protects its resources and closes the oldest when no
 * socket is silent. False: refuse (max_connections of finished
 * connections). */
/* The cap of one address (self: a connection of addr not to count or
 * close): true when one of its silent handshakes was closed. */
static bool room_for_address(struct worker *w, const struct conn_addr *addr,
                             const struct conn *self)
{
    struct conn_set *s = worker_conns(w);
    struct conn *c, *v;
    int64_t same = 0;
    TAILQ_FOREACH(c, &s->handshakes, hs_link)
    {
        same += c != self && addr_eq(&c->addr, addr);
    }
    if (same < worker_config(w)->max_handshakes_per_address ||
        (v = victim(s, addr, false, self)) == NULL)
        return false;
    worker_note(w, WN_EVICT_ADDRESS, NULL);
    conn_close(v, "max_handshakes_per_address: a newer one from this address");
    return true;
}

/* addr NULL (proxy_listen): the address is not known yet; its cap applies
 * once the PROXY header has given it */
static bool make_room(struct worker *w, const struct conn_addr *addr)
{
    const struct config *cfg = worker_config(w);
    struct conn_set *s = worker_conns(w);
    if (addr && room_for_address(w, addr, NULL)) {
        /* one closed: room made */
    } else if ((int64_t)s->n_handshakes >= cfg->max_handshakes ||
               ((int64_t)s->n_conns >= cfg->max_connections && s->n_handshakes > 0)) {
        worker_note(w, WN_EVICT_HANDSHAKES, NULL);
        conn_close(victim(s, NULL, true, NULL), "max_handshakes: a newer connection");
    }
    if ((int64_t)s->n_conns >= cfg->max_connections) {
        worker_note(w, WN_REFUSED_FULL, NULL);
        return false;
    }
    return true;
}

static void fmt_peer(const struct sockaddr *sa, char *peer, size_t n)
{
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
    snprintf(peer, n, "%s:%d", host, port);
}

/* the TLS side of an accepted socket (after its PROXY header, if any);
 * false: nothing was set up, fd is still the caller's */
static bool conn_tls_begin(struct conn *c, int fd)
{
    SSL *ssl = tls_new_ssl();
    if (!ssl)
        return false;
    c->bev = bufferevent_openssl_socket_new(worker_base(c->w), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        SSL_free(ssl);
        return false;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    return true;
}

static void proxy_fail(struct conn *c, const char *why)
{
    worker_note(c->w, WN_PROXY_BAD, why);
    conn_close(c, why);
    worker_check_drained(c->w);
}

/* The header arrived: the client's address replaces the balancer's (label,
 * logs, the per-address cap), then the TLS handshake begins on the same
 * socket, under the timer armed at accept (header + handshake). */
static void proxy_done(struct conn *c, const struct proxy_header *h)
{
    if (h->src.family != PROXY_AF_NONE) {
        char client[64];
        proxy_addr_text(&h->src, client, sizeof client);
        log_debug("%s: PROXY header: client %s", c->label, client);
        memset(&c->addr, 0, sizeof c->addr);
        c->addr.family = h->src.family == PROXY_AF_INET ? AF_INET : AF_INET6;
        memcpy(c->addr.bytes, h->src.bytes, h->src.family == PROXY_AF_INET ? 4 : 16);
        snprintf(c->peer, sizeof c->peer, "%s", client);
        snprintf(c->label, sizeof c->label, "%s c%llu %s", worker_tag(c->w),
                 (unsigned long long)c->id, c->peer);
        room_for_address(c->w, &c->addr, c);
    }
    int fd = c->pw->fd;
    proxy_wait_end(c, false);
    if (!conn_tls_begin(c, fd)) {
        log_error("%s: cannot set up a connection (memory or TLS)", worker_tag(c->w));
        close(fd);
        conn_close(c, "no memory for TLS");
        return;
    }
    conn_start_bev(c);
}

/* Read exactly the header's bytes (proxy_need says how many), as they
 * come: a header cut in several segments is read over several calls. */
static void proxy_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct conn *c = arg;
    struct proxy_wait *pw = c->pw;
    size_t need;
    while ((need = proxy_need(pw->buf, pw->have)) > pw->have) {
        ssize_t r = recv(fd, pw->buf + pw->have, need - pw->have, 0);
        if (r == 0 && pw->have == 0) {
            /* a balancer's TCP health check: connect, close */
            conn_close(c, "closed before the PROXY header");
            worker_check_drained(c->w);
            return;
        }
        if (r == 0) {
            proxy_fail(c, "closed in the middle of the PROXY header");
            return;
        }
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            proxy_fail(c, "read error before the end of the PROXY header");
            return;
        }
        pw->have += (size_t)r;
    }
    struct proxy_header h;
    size_t used;
    const char *why;
    if (need == 0 || proxy_parse(pw->buf, pw->have, &h, &used, &why) != PROXY_OK) {
        proxy_fail(c, need == 0 ? "not a PROXY v2 header (signature, version or length)" : why);
        return;
    }
    proxy_done(c, &h);
}

void conn_accept(struct worker *w, int fd, const struct sockaddr *sa, int salen, bool proxy)
{
    (void)salen;
    const struct config *cfg = worker_config(w);
    struct conn_addr addr;
    addr_of(sa, &addr);
    char peer[64];
    fmt_peer(sa, peer, sizeof peer);
    if (worker_draining(w)) {
        close(fd);
        return;
    }
    if (proxy && !proxy_trusted(worker_proxy_trust(w),
                                addr.family == AF_INET    ? PROXY_AF_INET
                                : addr.family == AF_INET6 ? PROXY_AF_INET6
                                                          : PROXY_AF_NONE,
                                addr.bytes)) {
        worker_note(w, WN_PROXY_UNTRUSTED, peer);
        close(fd);
        return;
    }
    if (!make_room(w, proxy ? NULL : &addr)) {
        close(fd);
        return;
    }
    struct conn *c = conn_new(w, peer);
    c->addr = addr;
    bool ok = c->timer != NULL;
    if (ok && proxy) {
        c->pw = xcalloc(1, sizeof *c->pw);
        c->pw->fd = fd;
        c->pw->ev = event_new(worker_base(w), fd, EV_READ | EV_PERSIST, proxy_read_cb, c);
        ok = c->pw->ev && event_add(c->pw->ev, NULL) == 0;
    } else if (ok) {
        ok = conn_tls_begin(c, fd);
    }
    if (!ok) {
        log_error("%s: cannot set up a connection (memory or TLS)", worker_tag(w));
        if (c->pw) {
            proxy_wait_end(c, true);
        } else if (c->bev) {
            bufferevent_free(c->bev);
        } else {
            close(fd);
        }
        if (c->timer)
            event_free(c->timer);
        free(c);
        return;
    }
    conn_start(c, cfg->tls_handshake_timeout_ms);
}

struct conn *conn_adopt(struct worker *w, struct bufferevent *bev, const char *peer,
                        const char *fingerprint)
{
    struct conn *c = conn_new(w, peer);
    ASSERT(c->timer != NULL);
    c->bev = bev;
    snprintf(c->fingerprint, sizeof c->fingerprint, "%s", fingerprint);
    conn_start(c, worker_config(w)->request_timeout_ms);
    conn_ready(c);
    return c;
}

void conn_drain_all(struct worker *w)
{
    struct conn_set *s = worker_conns(w);
    struct conn *c, *next;
    /* Busy connections finish their request and close (conn_draining).
     * An idle keep-alive connection may have a request on its way, or
     * already in the socket buffer: closing it now would drop that request
     * unanswered. It gets a short grace instead (any request that arrives
     * is answered with Connection: close), then a clean close. */
    for (c = TAILQ_FIRST(&s->conns); c; c = next) {
        next = TAILQ_NEXT(c, link);
        if (c->state == CS_HANDSHAKE) {
            conn_close(c, "shutting down");
        } else if (c->state == CS_IDLE) {
            int64_t grace = idle_ms(c, worker_config(w)->idle_timeout_ms);
            if (grace <= 0) {
                conn_close(c, "shutting down (idle)");
            } else {
                conn_arm(c, grace);
                if (c->bev && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
                    protocol->readable(c->proto);
            }
        }
    }
}
