/*
 * medaid-loadgen: an HTTP/1.1 load generator over mutual TLS, for
 * benchmarking medaidd on the loopback interface.
 *
 * Closed loop (the default): each of N keep-alive connections sends one
 * request, waits for the whole response, and sends the next one. Requests
 * are POST /v1/coverage with the bodies of an NDJSON file taken round-robin,
 * or GET of a path (or of the paths of a file, round-robin). After a warm-up
 * that is not measured, every response that completes within the measured
 * window is counted by status and its latency is recorded in a log-bucketed
 * histogram (microseconds, about 1.6 % precision, fixed memory). The run
 * stops by itself at the end of the window.
 *
 * Open loop (--rate R, as wrk2 does): requests are due on a fixed schedule,
 * R per second in all, each thread R/threads of them, evenly spaced; a due
 * request goes out on a free connection of its thread (still one request in
 * flight per connection), or waits for one. Its latency counts from the time
 * it was due, not from when it was sent, so a stall of the server (or a
 * queue in front of it) shows in the figures instead of slowing the load
 * down (no coordinated omission). Every request due in the measured window
 * is counted, also when it is answered after the window ends (the run waits
 * for them up to --timeout); the rate achieved is the answers completed
 * within the window.
 *
 * Loopback only: any host other than 127.0.0.1, localhost or ::1 is refused.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "loopback.h"

#define MAX_LINE           16384       /* longest status or header line */
#define MAX_BODY           (64u << 20) /* largest response body */
#define RECONNECT_DELAY_US 5000        /* after a failed or closed connection */

/* ---- histogram ------------------------------------------------------------ */

/* Values below 2^SUB_BITS are exact; above, each power of two is divided into
 * 2^(SUB_BITS-1) buckets (HdrHistogram's layout). Up to 2^40 us (12 days). */
#define SUB_BITS   7
#define SUB_COUNT  (1u << SUB_BITS)
#define HALF_COUNT (SUB_COUNT / 2)
#define MAX_SHIFT  34
#define N_BUCKETS  (SUB_COUNT + MAX_SHIFT * HALF_COUNT)

struct histogram {
    uint64_t counts[N_BUCKETS];
    uint64_t total;
    uint64_t max;
};

static unsigned hist_index(uint64_t v)
{
    if (v < SUB_COUNT)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - (SUB_BITS - 1); /* v >> shift in [HALF, SUB) */
    if (shift > MAX_SHIFT)
        return N_BUCKETS - 1;
    return SUB_COUNT + (shift - 1) * HALF_COUNT + (unsigned)((v >> shift) - HALF_COUNT);
}

/* the highest value that falls into bucket i */
static uint64_t hist_value(unsigned i)
{
    if (i < SUB_COUNT)
        return i;
    unsigned shift = (i - SUB_COUNT) / HALF_COUNT + 1;
    uint64_t sub = (i - SUB_COUNT) % HALF_COUNT + HALF_COUNT;
    return ((sub + 1) << shift) - 1;
}

static void hist_record(struct histogram *h, uint64_t v)
{
    h->counts[hist_index(v)]++;
    h->total++;
    if (v > h->max)
        h->max = v;
}

static void hist_merge(struct histogram *into, const struct histogram *from)
{
    for (unsigned i = 0; i < N_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->total += from->total;
    if (from->max > into->max)
        into->max = from->max;
}

static uint64_t hist_percentile(const struct histogram *h, double pct)
{
    if (h->total == 0)
        return 0;
    uint64_t want = (uint64_t)((pct / 100.0) * (double)h->total + 0.5);
    if (want < 1)
        want = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < N_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want) {
            uint64_t v = hist_value(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

/* ---- options and shared state --------------------------------------------- */

struct options {
    const char *url;
    const char *cert, *key, *ca;
    const char *questions;
    const char *get_path;
    const char *paths_file;
    double rate; /* requests per second; 0: closed loop */
    int connections;
    double duration;
    double warmup;
    int threads;
    int timeout_ms;
};

static struct options opt = {
    .connections = 64, .duration = 10, .warmup = 2, .threads = 1, .timeout_ms = 10000};

static struct loopback_target target; /* --url */

static char **requests; /* prebuilt request texts */
static size_t *request_len;
static size_t n_requests;
static atomic_size_t next_request;
static bool is_post;

static uint64_t t_measure_start, t_measure_end; /* monotonic microseconds */
static uint64_t t_run_start;
static bool open_loop;

/* sent more than this after it was due: late */
#define LATE_US 1000

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- per-thread state ------------------------------------------------------ */

enum err_kind { E_CONNECT, E_TLS, E_CLOSED, E_PROTOCOL, E_TIMEOUT, E__COUNT };
static const char *const err_names[E__COUNT] = {"connect", "tls", "closed mid-request", "protocol",
                                                "timeout"};

struct stats {
    uint64_t answers; /* complete responses in the window */
    uint64_t status[600];
    uint64_t agreements; /* 200 coverage answers with an agreement number */
    uint64_t errors[E__COUNT];
    uint64_t connects;
    struct histogram hist;
    /* open loop */
    uint64_t due;            /* requests due in the window */
    uint64_t late;           /* of those, sent more than LATE_US after they were due */
    uint64_t queued;         /* of those, due when no connection of the thread was free */
    uint64_t unfinished;     /* due in the window, not answered by the end of the run */
    uint64_t max_send_delay; /* us */
};

struct worker;

enum parse_state {
    P_STATUS,
    P_HEADERS,
    P_BODY,
    P_CHUNK_SIZE,
    P_CHUNK_DATA,
    P_CHUNK_CRLF,
    P_TRAILERS
};

struct conn {
    struct worker *w;
    int id;
    struct bufferevent *bev;
    struct event *retry;
    bool connected;
    bool in_flight;
    uint64_t sent_at; /* open loop: when the request was due */
    struct conn *next_idle;
    /* response */
    enum parse_state ps;
    int status;
    bool has_length, chunked, close_after;
    size_t length; /* remaining body or chunk bytes */
    size_t body_len;
    struct evbuffer *body; /* 200 answers to POST: to find the agreement */
};

struct worker {
    int index;
    pthread_t thread;
    struct event_base *base;
    SSL_CTX *ctx;
    struct conn *conns;
    int n_conns;
    struct event *stop;
    struct stats st;
    /* open loop: request k of this thread is due at sched0 + k * interval */
    double sched0, interval; /* us */
    uint64_t next_k;         /* the next request to send */
    uint64_t end_k;          /* the first request due at or after the window's end */
    uint64_t queued_k;       /* requests before this one were counted as queued */
    struct conn *idle;       /* connected connections without a request */
    struct event *tick;
    struct event *begin; /* starts the schedule at the window at the latest */
    bool started;        /* the schedule runs */
    int n_up;            /* connections connected once, before the schedule starts */
    int in_flight;
};

static bool in_window(uint64_t t)
{
    return t >= t_measure_start && t < t_measure_end;
}

static void count_error(struct conn *c, enum err_kind k)
{
    if (in_window(now_us()))
        c->w->st.errors[k]++;
}

/* ---- connections ------------------------------------------------------------ */

static void conn_connect(struct conn *c);
static void send_request(struct conn *c);

static void idle_remove(struct conn *c);

static void conn_drop(struct conn *c, bool retry)
{
    if (open_loop) {
        if (c->in_flight)
            c->w->in_flight--; /* that request is lost: counted as unfinished */
        else if (c->connected)
            idle_remove(c);
    }
    if (c->bev != NULL) {
        bufferevent_free(c->bev); /* safe inside its own callbacks: libevent defers it */
        c->bev = NULL;
    }
    c->connected = false;
    c->in_flight = false;
    if (retry) {
        struct timeval tv = {0, RECONNECT_DELAY_US};
        evtimer_add(c->retry, &tv);
    }
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_connect(arg);
}

static void conn_idle(struct conn *c);
static void schedule_start(struct worker *w);

static void response_done(struct conn *c)
{
    uint64_t t = now_us();
    struct stats *st = &c->w->st;
    bool counted = in_window(t);
    if (open_loop) {
        if (counted)
            st->answers++; /* the rate achieved */
        counted = in_window(c->sent_at);
        c->w->in_flight--;
    }
    if (counted) {
        if (!open_loop)
            st->answers++;
        st->status[c->status]++;
        hist_record(&st->hist, t - c->sent_at);
        if (c->status == 200 && is_post && c->body_len > 0) {
            size_t n = evbuffer_get_length(c->body);
            const char *p = (const char *)evbuffer_pullup(c->body, (ev_ssize_t)n);
            static const char needle[] = "\"agreement\":\"A";
            if (p != NULL && memmem(p, n, needle, sizeof needle - 1) != NULL)
                st->agreements++;
        }
    }
    evbuffer_drain(c->body, evbuffer_get_length(c->body));
    c->in_flight = false;
    if (c->close_after) {
        conn_drop(c, false);
        conn_connect(c);
        return;
    }
    if (open_loop)
        conn_idle(c);
    else
        send_request(c);
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return false;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    *value = v;
    return true;
}

/* body bytes: keep them for 200 answers to a POST */
static void take_body(struct conn *c, struct evbuffer *in, size_t n)
{
    if (c->status == 200 && is_post)
        evbuffer_remove_buffer(in, c->body, n);
    else
        evbuffer_drain(in, n);
    c->body_len += n;
}

/* Returns false when the connection was dropped. */
static bool parse(struct conn *c, struct evbuffer *in)
{
    for (;;) {
        if (!c->in_flight) {
            if (evbuffer_get_length(in) > 0) {
                count_error(c, E_PROTOCOL); /* bytes nobody asked for */
                conn_drop(c, true);
                return false;
            }
            return true;
        }
        if (c->ps == P_BODY || c->ps == P_CHUNK_DATA) {
            size_t avail = evbuffer_get_length(in);
            size_t n = avail < c->length ? avail : c->length;
            if (n > 0)
                take_body(c, in, n);
            c->length -= n;
            if (c->length > 0)
                return true;
            if (c->ps == P_CHUNK_DATA) {
                c->ps = P_CHUNK_CRLF;
                continue;
            }
            response_done(c);
            if (c->bev == NULL || !c->connected)
                return false;
            continue;
        }
        size_t len;
        char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
        if (line == NULL) {
            if (evbuffer_get_length(in) > MAX_LINE) {
                count_error(c, E_PROTOCOL);
                conn_drop(c, true);
                return false;
            }
            return true;
        }
        bool ok = true;
        const char *v;
        switch (c->ps) {
        case P_STATUS: {
            int major, minor, status;
            if (sscanf(line, "HTTP/%d.%d %3d", &major, &minor, &status) != 3 || major != 1 ||
                status < 100 || status > 599) {
                ok = false;
                break;
            }
            c->status = status;
            c->has_length = c->chunked = false;
            c->close_after = minor == 0;
            c->length = c->body_len = 0;
            c->ps = P_HEADERS;
            break;
        }
        case P_HEADERS:
            if (len == 0) {
                if (c->status < 200) { /* 1xx: another status line follows */
                    c->ps = P_STATUS;
                } else if (c->chunked) {
                    c->ps = P_CHUNK_SIZE;
                } else if (c->has_length) {
                    c->ps = P_BODY;
                } else if (c->status == 204 || c->status == 304) {
                    c->length = 0;
                    c->ps = P_BODY;
                } else {
                    ok = false; /* body up to EOF: not for a keep-alive benchmark */
                }
            } else if (header_is(line, len, "Content-Length", &v)) {
                char *end;
                errno = 0;
                unsigned long long n = strtoull(v, &end, 10);
                if (errno != 0 || end == v || n > MAX_BODY)
                    ok = false;
                c->length = (size_t)n;
                c->has_length = true;
            } else if (header_is(line, len, "Transfer-Encoding", &v)) {
                c->chunked = strcasestr(v, "chunked") != NULL;
            } else if (header_is(line, len, "Connection", &v)) {
                if (strcasestr(v, "close") != NULL)
                    c->close_after = true;
                else if (strcasestr(v, "keep-alive") != NULL)
                    c->close_after = false;
            }
            break;
        case P_CHUNK_SIZE: {
            char *end;
            errno = 0;
            unsigned long n = strtoul(line, &end, 16);
            if (errno != 0 || end == line || n > MAX_BODY || c->body_len + n > MAX_BODY) {
                ok = false;
                break;
            }
            c->length = n;
            c->ps = n == 0 ? P_TRAILERS : P_CHUNK_DATA;
            break;
        }
        case P_CHUNK_CRLF:
            ok = len == 0;
            c->ps = P_CHUNK_SIZE;
            break;
        case P_TRAILERS:
            if (len == 0) {
                free(line);
                line = NULL;
                response_done(c);
                if (c->bev == NULL || !c->connected)
                    return false;
            }
            break;
        case P_BODY:
        case P_CHUNK_DATA:
            break;
        }
        free(line);
        if (!ok) {
            count_error(c, E_PROTOCOL);
            conn_drop(c, true);
            return false;
        }
    }
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    parse(c, bufferevent_get_input(bev));
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        c->connected = true;
        if (in_window(now_us()))
            c->w->st.connects++;
        if (open_loop) {
            conn_idle(c);
            if (!c->w->started && ++c->w->n_up == c->w->n_conns)
                schedule_start(c->w);
        } else {
            send_request(c);
        }
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        count_error(c, c->connected ? E_TIMEOUT : E_CONNECT);
    } else if (!c->connected) {
        /* a system error (refused, reset) is the connection's, not TLS's */
        unsigned long e = bufferevent_get_openssl_error(c->bev);
        if (e != 0 && (ERR_SYSTEM_ERROR(e) || ERR_GET_LIB(e) == 0))
            e = 0;
        count_error(c, e != 0 ? E_TLS : E_CONNECT);
        if (e != 0 && c->w->st.errors[E_TLS] <= 1 && c->w->index == 0) {
            char buf[256];
            ERR_error_string_n(e, buf, sizeof buf);
            fprintf(stderr, "medaid-loadgen: TLS: %s\n", buf);
        }
    } else if (c->in_flight) {
        /* EOF or error with a request outstanding; at EOF parse what came */
        count_error(c, E_CLOSED);
    }
    conn_drop(c, true);
}

/* due: when the request was due (open loop), or 0: now */
static void send_request_due(struct conn *c, uint64_t due)
{
    size_t i = atomic_fetch_add_explicit(&next_request, 1, memory_order_relaxed) % n_requests;
    c->ps = P_STATUS;
    c->in_flight = true;
    c->sent_at = due != 0 ? due : now_us();
    struct timeval tv = {opt.timeout_ms / 1000, (opt.timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    if (bufferevent_write(c->bev, requests[i], request_len[i]) != 0) {
        count_error(c, E_CLOSED);
        conn_drop(c, true);
    }
}

static void send_request(struct conn *c)
{
    send_request_due(c, 0);
}

/* ---- open loop ---------------------------------------------------------------- */

static uint64_t due_at(const struct worker *w, uint64_t k)
{
    return (uint64_t)(w->sched0 + (double)k * w->interval);
}

/* Sends every request that is due on a free connection, then waits for the
 * next one to fall due (or for a connection to become free). */
static void pump(struct worker *w)
{
    if (!w->started)
        return;
    uint64_t now = now_us();
    struct stats *st = &w->st;
    while (w->next_k < w->end_k && w->idle != NULL) {
        uint64_t due = due_at(w, w->next_k);
        if (due > now)
            break;
        struct conn *c = w->idle;
        w->idle = c->next_idle;
        c->next_idle = NULL;
        if (in_window(due)) {
            uint64_t delay = now - due;
            if (delay > LATE_US)
                st->late++;
            if (delay > st->max_send_delay)
                st->max_send_delay = delay;
        }
        w->next_k++;
        w->in_flight++;
        send_request_due(c, due);
        now = now_us();
    }
    if (w->next_k >= w->end_k) {
        if (w->in_flight == 0)
            event_base_loopbreak(w->base); /* everything due was answered */
        return;
    }
    uint64_t due = due_at(w, w->next_k);
    if (due <= now) {
        /* due, and no free connection: they wait (and count from when they
         * were due); a connection becoming free pumps again */
        if (w->queued_k < w->next_k)
            w->queued_k = w->next_k;
        for (; w->queued_k < w->end_k && (due = due_at(w, w->queued_k)) <= now; w->queued_k++)
            if (in_window(due))
                st->queued++;
        return;
    }
    uint64_t wait = due - now;
    struct timeval tv = {(time_t)(wait / 1000000u), (suseconds_t)(wait % 1000000u)};
    evtimer_add(w->tick, &tv);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

/* The schedule starts when every connection of the thread is up (their
 * handshakes are not a backlog the window inherits), at the window's start
 * at the latest. Thread t is shifted by t/R so that the threads interleave. */
static void schedule_start(struct worker *w)
{
    if (w->started)
        return;
    w->started = true;
    evtimer_del(w->begin);
    w->interval = 1e6 * opt.threads / opt.rate;
    w->sched0 = (double)now_us() + 1e6 * w->index / opt.rate;
    double span = (double)t_measure_end - w->sched0;
    w->end_k = span > 0 ? (uint64_t)(span / w->interval) : 0;
    while (w->end_k > 0 && due_at(w, w->end_k - 1) >= t_measure_end)
        w->end_k--;
    while (due_at(w, w->end_k) < t_measure_end)
        w->end_k++;
    for (uint64_t k = 0; k < w->end_k; k++)
        if (in_window(due_at(w, k)))
            w->st.due++;
    pump(w);
}

static void begin_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    schedule_start(arg);
}

/* c has no request in flight: free for the next one due */
static void conn_idle(struct conn *c)
{
    struct worker *w = c->w;
    bufferevent_set_timeouts(c->bev, NULL, NULL); /* an idle connection never times out */
    c->next_idle = w->idle;
    w->idle = c;
    pump(w);
}

static void idle_remove(struct conn *c)
{
    for (struct conn **p = &c->w->idle; *p != NULL; p = &(*p)->next_idle)
        if (*p == c) {
            *p = c->next_idle;
            c->next_idle = NULL;
            return;
        }
}

static void conn_connect(struct conn *c)
{
    struct worker *w = c->w;
    SSL *ssl = loopback_ssl(w->ctx, &target);
    if (ssl == NULL) {
        count_error(c, E_TLS);
        return;
    }
    c->bev = bufferevent_openssl_socket_new(w->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        SSL_free(ssl);
        count_error(c, E_CONNECT);
        struct timeval tv = {0, RECONNECT_DELAY_US};
        evtimer_add(c->retry, &tv);
        return;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    struct timeval tv = {opt.timeout_ms / 1000, (opt.timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    c->connected = false;
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&target.addr, (int)target.addr_len) !=
        0) {
        count_error(c, E_CONNECT);
        conn_drop(c, true);
        return;
    }
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- set-up ----------------------------------------------------------------- */

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    event_base_loopbreak(w->base);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->n_conns; i++)
        conn_connect(&w->conns[i]);
    uint64_t now = now_us();
    /* open loop: what fell due in the window may be answered up to --timeout later */
    uint64_t end = t_measure_end + (open_loop ? (uint64_t)opt.timeout_ms * 1000u : 0);
    uint64_t left = end > now ? end - now : 0;
    struct timeval tv = {(time_t)(left / 1000000u), (suseconds_t)(left % 1000000u)};
    evtimer_add(w->stop, &tv);
    if (open_loop) {
        left = t_measure_start > now ? t_measure_start - now : 0;
        struct timeval b = {(time_t)(left / 1000000u), (suseconds_t)(left % 1000000u)};
        evtimer_add(w->begin, &b);
    }
    event_base_dispatch(w->base);
    return NULL;
}

static bool add_request(const char *text, size_t len)
{
    if (n_requests % 1024 == 0) {
        char **r = realloc(requests, (n_requests + 1024) * sizeof *r);
        size_t *l = r ? realloc(request_len, (n_requests + 1024) * sizeof *l) : NULL;
        if (r != NULL)
            requests = r;
        if (l == NULL)
            return false;
        request_len = l;
    }
    char *copy = malloc(len);
    if (copy == NULL)
        return false;
    memcpy(copy, text, len);
    requests[n_requests] = copy;
    request_len[n_requests] = len;
    n_requests++;
    return true;
}

/* a GET of path (len bytes) */
static bool add_get(const char *path, size_t len)
{
    char *buf;
    int n = asprintf(&buf,
                     "GET %.*s HTTP/1.1\r\nHost: %s\r\nUser-Agent: medaid-loadgen\r\n"
                     "Accept: application/json\r\n\r\n",
                     (int)len, path, target.host_hdr);
    if (n < 0)
        return false;
    bool ok = add_request(buf, (size_t)n);
    free(buf);
    return ok;
}

/* one line of --paths */
static bool take_path(const char *line, size_t len, const char *file)
{
    if (line[0] != '/' || memchr(line, ' ', len) != NULL) {
        fprintf(stderr, "medaid-loadgen: %s: not a path: %.*s\n", file, (int)(len > 80 ? 80 : len),
                line);
        return false;
    }
    return add_get(line, len);
}

/* one line of --questions: a POST /v1/coverage */
static bool take_question(const char *line, size_t len, const char *file)
{
    (void)file;
    char *buf;
    int n = asprintf(&buf,
                     "POST /v1/coverage HTTP/1.1\r\nHost: %s\r\nUser-Agent: medaid-loadgen\r\n"
                     "Content-Type: application/json\r\nAccept: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%.*s",
                     target.host_hdr, len, (int)len, line);
    if (n < 0)
        return false;
    bool ok = add_request(buf, (size_t)n);
    free(buf);
    return ok;
}

/* every non-empty line of file (without its end of line) to take; what
 * names the lines in the message when there is none */
static bool load_lines(const char *file, bool (*take)(const char *, size_t, const char *),
                       const char *what)
{
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        fprintf(stderr, "medaid-loadgen: %s: %s\n", file, strerror(errno));
        return false;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    bool ok = true;
    while (ok && (got = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)got;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len > 0)
            ok = take(line, len, file);
    }
    free(line);
    fclose(f);
    if (ok && n_requests == 0) {
        fprintf(stderr, "medaid-loadgen: %s: no %s\n", file, what);
        ok = false;
    }
    return ok;
}

static bool load_requests(void)
{
    if (opt.paths_file != NULL)
        return load_lines(opt.paths_file, take_path, "paths");
    if (opt.get_path != NULL)
        return add_get(opt.get_path, strlen(opt.get_path));
    return load_lines(opt.questions, take_question, "questions");
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: medaid-loadgen --url https://127.0.0.1:PORT --cert FILE --key FILE --ca FILE\n"
            "                      (--questions FILE.ndjson | --get PATH | --paths FILE)\n"
            "                      [-c CONNECTIONS] [-d SECONDS] [-w SECONDS] [-t THREADS]\n"
            "                      [--timeout MS] [--rate REQUESTS_PER_SECOND]\n"
            "  --questions  one JSON coverage question per line, POSTed to /v1/coverage\n"
            "               round-robin\n"
            "  --get        GET this path instead\n"
            "  --paths      GET the paths of this file (one a line), round-robin\n"
            "  -c           connections, each with one request in flight (default 64)\n"
            "  -d           measured duration in seconds (default 10)\n"
            "  -w           warm-up in seconds, not measured (default 2)\n"
            "  -t           threads, each with its own event loop (default 1)\n"
            "  --timeout    a response slower than this counts as a timeout (default 10000)\n"
            "  --rate       open loop: this many requests a second in all, on a fixed\n"
            "               schedule; latency counts from when each request was due\n"
            "               (default: closed loop, the next request when the last is answered)\n");
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"url", required_argument, NULL, 'u'},
                                             {"cert", required_argument, NULL, 'C'},
                                             {"key", required_argument, NULL, 'K'},
                                             {"ca", required_argument, NULL, 'A'},
                                             {"questions", required_argument, NULL, 'q'},
                                             {"get", required_argument, NULL, 'g'},
                                             {"connections", required_argument, NULL, 'c'},
                                             {"duration", required_argument, NULL, 'd'},
                                             {"warmup", required_argument, NULL, 'w'},
                                             {"threads", required_argument, NULL, 't'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             {"paths", required_argument, NULL, 'P'},
                                             {"rate", required_argument, NULL, 'R'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int ch;
    double v;
    while ((ch = getopt_long(argc, argv, "c:d:w:t:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u':
            opt.url = optarg;
            break;
        case 'C':
            opt.cert = optarg;
            break;
        case 'K':
            opt.key = optarg;
            break;
        case 'A':
            opt.ca = optarg;
            break;
        case 'q':
            opt.questions = optarg;
            break;
        case 'g':
            opt.get_path = optarg;
            break;
        case 'c':
            if (!parse_double(optarg, 1, 10000, &v))
                goto bad;
            opt.connections = (int)v;
            break;
        case 'd':
            if (!parse_double(optarg, 0.1, 3600, &opt.duration))
                goto bad;
            break;
        case 'w':
            if (!parse_double(optarg, 0, 3600, &opt.warmup))
                goto bad;
            break;
        case 't':
            if (!parse_double(optarg, 1, 64, &v))
                goto bad;
            opt.threads = (int)v;
            break;
        case 'T':
            if (!parse_double(optarg, 1, 600000, &v))
                goto bad;
            opt.timeout_ms = (int)v;
            break;
        case 'P':
            opt.paths_file = optarg;
            break;
        case 'R':
            if (!parse_double(optarg, 0.1, 1e7, &opt.rate))
                goto bad;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (optind != argc || opt.url == NULL || opt.cert == NULL || opt.key == NULL ||
        opt.ca == NULL ||
        (opt.questions != NULL) + (opt.get_path != NULL) + (opt.paths_file != NULL) != 1)
        goto bad;
    if (opt.get_path != NULL && opt.get_path[0] != '/')
        goto bad;
    if (!loopback_parse_url("medaid-loadgen", opt.url, &target))
        return 1;
    is_post = opt.questions != NULL;
    open_loop = opt.rate > 0;
    if (!load_requests())
        return 1;
    if (opt.threads > opt.connections)
        opt.threads = opt.connections;
    signal(SIGPIPE, SIG_IGN);

    struct worker *workers = calloc((size_t)opt.threads, sizeof *workers);
    if (workers == NULL)
        return 1;
    for (int t = 0; t < opt.threads; t++) {
        struct worker *w = &workers[t];
        w->index = t;
        struct event_config *cfg = event_config_new();
        if (cfg == NULL)
            return 1;
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER); /* the schedule's timer */
        w->base = event_base_new_with_config(cfg);
        event_config_free(cfg);
        w->ctx = loopback_client_ctx(opt.cert, opt.key, opt.ca);
        if (w->base == NULL || w->ctx == NULL) {
            fprintf(stderr, "medaid-loadgen: cannot set up TLS (--cert, --key, --ca)\n");
            return 1;
        }
        w->n_conns = opt.connections / opt.threads + (t < opt.connections % opt.threads);
        w->conns = calloc((size_t)w->n_conns, sizeof *w->conns);
        w->stop = evtimer_new(w->base, stop_cb, w);
        w->tick = evtimer_new(w->base, tick_cb, w);
        w->begin = evtimer_new(w->base, begin_cb, w);
        if (w->conns == NULL || w->stop == NULL || w->tick == NULL || w->begin == NULL)
            return 1;
        for (int i = 0; i < w->n_conns; i++) {
            struct conn *c = &w->conns[i];
            c->w = w;
            c->id = i;
            c->body = evbuffer_new();
            c->retry = evtimer_new(w->base, retry_cb, c);
            if (c->body == NULL || c->retry == NULL)
                return 1;
        }
    }

    uint64_t t0 = now_us();
    t_run_start = t0;
    t_measure_start = t0 + (uint64_t)(opt.warmup * 1e6);
    t_measure_end = t_measure_start + (uint64_t)(opt.duration * 1e6);
    for (int t = 0; t < opt.threads; t++)
        if (pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]) != 0) {
            fprintf(stderr, "medaid-loadgen: cannot start a thread\n");
            return 1;
        }
    struct stats *all = calloc(1, sizeof *all);
    if (all == NULL)
        return 1;
    for (int t = 0; t < opt.threads; t++) {
        pthread_join(workers[t].thread, NULL);
        struct stats *st = &workers[t].st;
        all->answers += st->answers;
        all->agreements += st->agreements;
        all->connects += st->connects;
        all->due += st->due;
        all->late += st->late;
        all->queued += st->queued;
        if (st->max_send_delay > all->max_send_delay)
            all->max_send_delay = st->max_send_delay;
        for (int i = 0; i < 600; i++)
            all->status[i] += st->status[i];
        for (int i = 0; i < E__COUNT; i++)
            all->errors[i] += st->errors[i];
        hist_merge(&all->hist, &st->hist);
    }
    uint64_t t_end = now_us();
    double secs = opt.duration;
    if (t_end < t_measure_end) /* cannot happen, but do not divide by a lie */
        secs = (double)(t_end - t_measure_start) / 1e6;

    uint64_t non2xx = 0, conn_errors = 0;
    for (int s = 100; s < 600; s++)
        if (s < 200 || s >= 300)
            non2xx += all->status[s];
    conn_errors = all->errors[E_CONNECT] + all->errors[E_TLS] + all->errors[E_CLOSED] +
                  all->errors[E_PROTOCOL];

    /* open loop: what fell due in the window and was answered (the latencies) */
    uint64_t answered = open_loop ? all->hist.total : all->answers;
    all->unfinished = open_loop && all->due > answered ? all->due - answered : 0;
    printf("medaid-loadgen: %s %s %s", opt.url, is_post ? "POST" : "GET",
           is_post          ? "/v1/coverage"
           : opt.paths_file ? opt.paths_file
                            : opt.get_path);
    if (is_post)
        printf(" (%zu questions, round-robin)", n_requests);
    else if (opt.paths_file)
        printf(" (%zu paths, round-robin)", n_requests);
    printf("\n");
    printf("  connections   %d (%d thread%s), one request in flight each\n", opt.connections,
           opt.threads, opt.threads == 1 ? "" : "s");
    if (open_loop)
        printf("  open loop     %.1f requests/s on a fixed schedule; latency from when each was "
               "due\n",
               opt.rate);
    else
        printf("  closed loop   the next request when the last one is answered\n");
    printf("  warm-up       %.1f s (not measured)\n", opt.warmup);
    printf("  duration      %.1f s\n", secs);
    if (open_loop) {
        printf("  requests      %" PRIu64 " due in the window, %" PRIu64 " answered, %" PRIu64
               " unanswered\n",
               all->due, answered, all->unfinished);
        printf("  sent late     %" PRIu64 " more than %d ms after they were due (%" PRIu64
               " waited for a free connection); longest wait %.2f ms\n",
               all->late, LATE_US / 1000, all->queued, (double)all->max_send_delay / 1e3);
        printf("  answers/s     %.1f achieved (answers completed in the window), %.1f asked\n",
               (double)all->answers / secs, opt.rate);
    } else {
        printf("  requests      %" PRIu64 " answered\n", all->answers);
        printf("  answers/s     %.1f\n", (double)all->answers / secs);
    }
    if (is_post)
        printf("  agreements/s  %.1f (%" PRIu64 " answers with an agreement number)\n",
               (double)all->agreements / secs, all->agreements);
    printf("  status       ");
    for (int s = 100; s < 600; s++)
        if (all->status[s] > 0)
            printf(" %d: %" PRIu64, s, all->status[s]);
    printf("\n");
    printf("  errors        non-2xx %" PRIu64 ", connection %" PRIu64 ", timeouts %" PRIu64 "\n",
           non2xx, conn_errors, all->errors[E_TIMEOUT]);
    if (conn_errors > 0) {
        printf("                ");
        for (int i = 0; i < E_TIMEOUT; i++)
            printf(" %s %" PRIu64, err_names[i], all->errors[i]);
        printf("\n");
    }
    printf("  reconnects    %" PRIu64 " (in the window)\n", all->connects);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        printf("  own CPU       %.1f s user + %.1f s system over %.1f s (warm-up included)\n",
               (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
               (double)(t_end - t0) / 1e6);
    const struct histogram *h = &all->hist;
    printf("  latency ms    p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
           (double)hist_percentile(h, 50) / 1e3, (double)hist_percentile(h, 90) / 1e3,
           (double)hist_percentile(h, 99) / 1e3, (double)hist_percentile(h, 99.9) / 1e3,
           (double)h->max / 1e3);
    /* one line for scripts */
    printf("summary connections=%d duration=%.1f requests=%" PRIu64 " answers_per_s=%.1f "
           "agreements_per_s=%.1f non2xx=%" PRIu64 " conn_errors=%" PRIu64 " timeouts=%" PRIu64
           " p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f",
           opt.connections, secs, answered, (double)all->answers / secs,
           (double)all->agreements / secs, non2xx, conn_errors, all->errors[E_TIMEOUT],
           (double)hist_percentile(h, 50) / 1e3, (double)hist_percentile(h, 90) / 1e3,
           (double)hist_percentile(h, 99) / 1e3, (double)hist_percentile(h, 99.9) / 1e3,
           (double)h->max / 1e3);
    /* fields added later go at the end (scripts/bench reads them by name) */
    printf(" mode=%s rate=%.1f due=%" PRIu64 " late=%" PRIu64 " queued=%" PRIu64
           " unanswered=%" PRIu64 " max_send_delay_ms=%.2f\n",
           open_loop ? "open" : "closed", opt.rate, open_loop ? all->due : all->answers, all->late,
           all->queued, all->unfinished, (double)all->max_send_delay / 1e3);
    fflush(stdout);
    /* The event loops and connections are left to the exit: nothing to flush. */
    return answered > 0 ? 0 : 2;

bad:
    usage(stderr);
    return 1;
}
