/*
 * worker: one event loop per thread, its listener, its connections.
 */
#include "net/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "net/conn.h"
#include "net/proxy.h"

struct worker {
    int idx;
    char tag[16]; /* "w0" */
    pthread_t thread;
    bool own_base;
    struct event_base *base;
    struct evconnlistener *listener;
    struct evconnlistener *proxy_listener; /* proxy_listen: PROXY v2 before TLS */
    struct proxy_trust trust;              /* proxy_trusted, parsed */
    const struct config *cfg;              /* own_cfg, or the caller's (worker_new_on) */
    struct config own_cfg; /* this thread's copy: reloads change it between loop turns */
    bool owns_cfg;
    _Atomic(struct config *) reload; /* set by worker_reload, taken by cmd_cb */
    void *app;                       /* the upper layers' (the database handle) */
    struct conn_set *conns;
    struct event *ev_reap;
    struct event *ev_cmd; /* activated by the main thread */
    atomic_int cmd;
    bool draining;
    struct event *ev_drain_deadline;
    struct event *ev_notes;            /* the once-a-second report of worker_note() counts */
    struct event *ev_trim;             /* gives memory back after a flood (trim_cb) */
    size_t trim_peak;                  /* most connections open since the last trim */
    uint64_t trim_requests, trim_seen; /* requests at the last trim, at the last check */
    uint64_t notes[WN_COUNT];
    char note_detail[WN_COUNT][120];
    void (*done)(void *arg);
    void *done_arg;
};

enum { CMD_NONE, CMD_DRAIN };

static struct worker_hooks hooks;

void server_set_worker_hooks(const struct worker_hooks *h)
{
    hooks = *h;
}

struct event_base *worker_base(const struct worker *w)
{
    return w->base;
}
const struct config *worker_config(const struct worker *w)
{
    return w->cfg;
}
const char *worker_tag(const struct worker *w)
{
    return w->tag;
}
void *worker_app(const struct worker *w)
{
    return w->app;
}
bool worker_draining(const struct worker *w)
{
    return w->draining;
}
struct conn_set *worker_conns(const struct worker *w)
{
    return w->conns;
}
const struct proxy_trust *worker_proxy_trust(const struct worker *w)
{
    return &w->trust;
}

void worker_check_drained(struct worker *w)
{
    if (w->draining && conn_set_empty(w->conns))
        event_base_loopexit(w->base, NULL);
}

void worker_schedule_reap(struct worker *w)
{
    event_active(w->ev_reap, EV_READ, 0);
}

/* ---- flood counts ---------------------------------------------------------------- */

#define NOTES_PERIOD_MS 1000

static const char *const note_text[WN_COUNT] = {
    [WN_REFUSED_FULL] = "connection(s) refused (max_connections)",
    [WN_EVICT_HANDSHAKES] =
        "unfinished handshake(s) closed to admit new connections (max_handshakes)",
    [WN_EVICT_ADDRESS] = "unfinished handshake(s) closed for a newer one from the same address "
                         "(max_handshakes_per_address)",
    [WN_HS_TIMEOUT] = "handshake(s) not done in time (tls_handshake_timeout_ms)",
    [WN_HS_FAILED] = "handshake(s) failed or abandoned",
    [WN_ACCEPT_ERROR] = "accept error(s)",
    [WN_PROXY_UNTRUSTED] = "connection(s) to proxy_listen from a peer outside proxy_trusted",
    [WN_PROXY_BAD] = "connection(s) to proxy_listen without a valid PROXY v2 header",
};

/* one line with every count since the last one; warn when connections
 * were refused or cut, info when only handshakes failed */
static void notes_flush(struct worker *w)
{
    char line[1024];
    size_t n = 0;
    bool serious = false;
    for (int i = 0; i < WN_COUNT; i++) {
        if (!w->notes[i])
            continue;
        serious |= i == WN_REFUSED_FULL || i == WN_EVICT_HANDSHAKES || i == WN_EVICT_ADDRESS ||
                   i == WN_ACCEPT_ERROR || i == WN_PROXY_UNTRUSTED || i == WN_PROXY_BAD;
        int k = snprintf(line + n, sizeof line - n, "%s%llu %s%s%s%s", n ? "; " : "",
                         (unsigned long long)w->notes[i], note_text[i],
                         w->note_detail[i][0] ? " (last: " : "", w->note_detail[i],
                         w->note_detail[i][0] ? ")" : "");
        if (k > 0)
            n = (size_t)k < sizeof line - n ? n + (size_t)k : sizeof line - 1;
        w->notes[i] = 0;
        w->note_detail[i][0] = '\0';
    }
    if (n)
        log_ctx(serious ? LOG_WARN : LOG_INFO, w->tag, "connections: %s", line);
}

static void notes_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    notes_flush(arg);
}

_Static_assert(WN_REFUSED_FULL == (int)MC_CONN_REFUSED_FULL &&
                   WN_ACCEPT_ERROR == (int)MC_ACCEPT_ERROR && WN_COUNT == (int)MC_CONN_OPENED,
               "worker notes and their metrics in the same order");
_Static_assert(WN_PROXY_BAD == (int)MC_PROXY_BAD_HEADER, "the PROXY notes too");

void worker_note(struct worker *w, enum worker_note n, const char *detail)
{
    w->notes[n]++;
    metrics_inc((enum metric_counter)n);
    if (detail)
        snprintf(w->note_detail[n], sizeof w->note_detail[n], "%s", detail);
    if (w->ev_notes && !evtimer_pending(w->ev_notes, NULL)) {
        struct timeval tv = clock_tv(NOTES_PERIOD_MS);
        evtimer_add(w->ev_notes, &tv);
    }
}

/* ---- memory given back ---------------------------------------------------------- */

/* glibc keeps what was freed in its arenas (one per worker thread) for
 * reuse and returns only the top of each heap: after 10,000 connections
 * closed, or a flood of requests, the daemon would keep its peak RSS for
 * ever. malloc_trim(0) gives every free page of every arena back
 * (madvise), at a cost of a few milliseconds for a heap of hundreds of MB,
 * so it runs only when the load has fallen: the open connections dropped
 * to half their peak (by at least TRIM_MIN_DROP), or many requests were
 * served and the worker has been quiet for a check period. */
#define TRIM_PERIOD_MS    2000
#define TRIM_MIN_DROP     256
#define TRIM_MIN_REQUESTS 1000

static void trim_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    size_t n = conn_set_count(w->conns);
    uint64_t req = conn_set_requests(w->conns);
    if (n > w->trim_peak)
        w->trim_peak = n;
    bool dropped = w->trim_peak >= n + TRIM_MIN_DROP && n <= w->trim_peak / 2;
    bool quiet = req - w->trim_requests >= TRIM_MIN_REQUESTS && req == w->trim_seen &&
                 conn_set_in_flight(w->conns) == 0;
    w->trim_seen = req;
    if (!dropped && !quiet)
        return;
#ifdef __GLIBC__
    int64_t t0 = mono_ms();
    int given = malloc_trim(0);
    log_ctx(LOG_DEBUG, w->tag, "memory: %s; malloc_trim %s in %lld ms",
            dropped ? "connections dropped" : "quiet after many requests",
            given ? "gave memory back" : "found nothing to give back", (long long)(mono_ms() - t0));
#endif
    w->trim_peak = n;
    w->trim_requests = req;
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_reap(arg);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)l;
    conn_accept(arg, fd, sa, salen, false);
}

static void accept_proxy_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                            int salen, void *arg)
{
    (void)l;
    conn_accept(arg, fd, sa, salen, true);
}

/* (a libevent callback has its own signature: evconnlistener_enable cast
 * to one would get the descriptor -1 as its listener and crash) */
static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    if (w->listener)
        evconnlistener_enable(w->listener);
    if (w->proxy_listener)
        evconnlistener_enable(w->proxy_listener);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct worker *w = arg;
    int e = EVUTIL_SOCKET_ERROR();
    worker_note(w, WN_ACCEPT_ERROR, evutil_socket_error_to_string(e));
    /* EMFILE and friends: let the loop breathe rather than spin */
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        evconnlistener_disable(l);
        struct timeval tv = {0, 200 * 1000};
        event_base_once(w->base, -1, EV_TIMEOUT, accept_resume_cb, w, &tv);
    }
}

static void drain_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    log_warn("%s: shutdown_timeout reached with %zu request(s) in flight; stopping", w->tag,
             conn_set_in_flight(w->conns));
    event_base_loopbreak(w->base);
}

static void cmd_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    struct config *fresh = atomic_exchange(&w->reload, NULL);
    if (fresh) {
        if (w->owns_cfg && !config_apply_reloadable(&w->own_cfg, fresh))
            log_error("%s: out of memory applying the reloaded options", w->tag);
        config_free(fresh);
        free(fresh);
    }
    if (atomic_load(&w->cmd) != CMD_DRAIN || w->draining)
        return;
    w->draining = true;
    event_del(w->ev_trim);
    if (w->listener) {
        evconnlistener_free(w->listener); /* closes the listening socket */
        w->listener = NULL;
    }
    if (w->proxy_listener) {
        evconnlistener_free(w->proxy_listener);
        w->proxy_listener = NULL;
    }
    conn_drain_all(w);
    struct timeval tv = clock_tv(w->cfg->shutdown_timeout_ms);
    evtimer_add(w->ev_drain_deadline, &tv);
    worker_check_drained(w);
}

void worker_reload(struct worker *w, const struct config *fresh)
{
    struct config *copy = xcalloc(1, sizeof *copy);
    if (!config_copy(copy, fresh)) {
        free(copy);
        log_error("%s: out of memory copying the reloaded options", w->tag);
        return;
    }
    /* a reload the worker has not taken yet is replaced (never freed twice:
     * whoever exchanges it out owns it) */
    struct config *older = atomic_exchange(&w->reload, copy);
    if (older) {
        config_free(older);
        free(older);
    }
    event_active(w->ev_cmd, EV_READ, 0);
}

void worker_drain(struct worker *w)
{
    atomic_store(&w->cmd, CMD_DRAIN);
    event_active(w->ev_cmd, EV_READ, 0);
}

static bool worker_setup(struct worker *w, int fd, int proxy_fd)
{
    w->conns = conn_set_new(w);
    w->app = hooks.attach ? hooks.attach(w->base, w->cfg, w->tag) : NULL;
    w->ev_reap = event_new(w->base, -1, 0, reap_cb, w);
    w->ev_cmd = event_new(w->base, -1, 0, cmd_cb, w);
    w->ev_drain_deadline = evtimer_new(w->base, drain_deadline_cb, w);
    w->ev_notes = evtimer_new(w->base, notes_cb, w);
    w->ev_trim = event_new(w->base, -1, EV_PERSIST, trim_cb, w);
    if (w->ev_trim && w->own_base) { /* not on a test's loop: it would never end */
        struct timeval tv = clock_tv(TRIM_PERIOD_MS);
        event_add(w->ev_trim, &tv);
    }
    if (fd >= 0) {
        w->listener = evconnlistener_new(w->base, accept_cb, w, LEV_OPT_CLOSE_ON_FREE, -1, fd);
        if (w->listener)
            evconnlistener_set_error_cb(w->listener, accept_error_cb);
    }
    if (proxy_fd >= 0) {
        w->proxy_listener =
            evconnlistener_new(w->base, accept_proxy_cb, w, LEV_OPT_CLOSE_ON_FREE, -1, proxy_fd);
        if (w->proxy_listener)
            evconnlistener_set_error_cb(w->proxy_listener, accept_error_cb);
        else
            close(proxy_fd);
    }
    return (w->app || !hooks.attach) && w->ev_reap && w->ev_cmd && w->ev_drain_deadline &&
           w->ev_notes && w->ev_trim && (fd < 0 || w->listener) &&
           (proxy_fd < 0 || w->proxy_listener);
}

struct worker *worker_new(int idx, const struct config *cfg, int listen_fd, int proxy_fd)
{
    struct worker *w = xcalloc(1, sizeof *w);
    w->idx = idx;
    snprintf(w->tag, sizeof w->tag, "w%d", idx);
    if (!config_copy(&w->own_cfg, cfg)) {
        free(w);
        return NULL;
    }
    w->owns_cfg = true;
    w->cfg = &w->own_cfg;
    w->own_base = true;
    w->base = event_base_new();
    char err[160];
    if (!proxy_trust_parse(cfg->proxy_trusted, &w->trust, err, sizeof err)) {
        log_error("%s", err); /* server_run checked it first */
        if (proxy_fd >= 0)
            close(proxy_fd);
        proxy_fd = -1;
        worker_free(w);
        return NULL;
    }
    if (!w->base || !worker_setup(w, listen_fd, proxy_fd)) {
        worker_free(w);
        return NULL;
    }
    return w;
}

struct worker *worker_new_on(struct event_base *base, const struct config *cfg)
{
    struct worker *w = xcalloc(1, sizeof *w);
    snprintf(w->tag, sizeof w->tag, "t0");
    w->cfg = cfg;
    w->base = base;
    if (!worker_setup(w, -1, -1)) {
        worker_free(w);
        return NULL;
    }
    return w;
}

/* Connections first (their handlers may still hold database work), then
 * the application data, then the listener. */
static void worker_release(struct worker *w)
{
    conn_set_free(w->conns);
    w->conns = NULL;
    if (w->app && hooks.detach)
        hooks.detach(w->app);
    w->app = NULL;
    if (w->listener)
        evconnlistener_free(w->listener);
    w->listener = NULL;
    if (w->proxy_listener)
        evconnlistener_free(w->proxy_listener);
    w->proxy_listener = NULL;
}

/* Everything but the thread. */
void worker_free(struct worker *w)
{
    if (!w)
        return;
    worker_release(w);
    if (w->ev_reap)
        event_free(w->ev_reap);
    if (w->ev_cmd)
        event_free(w->ev_cmd);
    if (w->ev_drain_deadline)
        event_free(w->ev_drain_deadline);
    if (w->ev_trim)
        event_free(w->ev_trim);
    if (w->ev_notes) {
        notes_flush(w);
        event_free(w->ev_notes);
    }
    if (w->base && w->own_base)
        event_base_free(w->base);
    struct config *pending = atomic_exchange(&w->reload, NULL);
    if (pending) {
        config_free(pending);
        free(pending);
    }
    if (w->owns_cfg)
        config_free(&w->own_cfg);
    free(w);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    metrics_gauge_add(MG_WORKERS_ACTIVE, 1);
    event_base_dispatch(w->base);
    metrics_gauge_add(MG_WORKERS_ACTIVE, -1);
    notes_flush(w);
    worker_release(w);
    w->done(w->done_arg);
    return NULL;
}

bool worker_start(struct worker *w, void (*done)(void *arg), void *arg)
{
    w->done = done;
    w->done_arg = arg;
    return pthread_create(&w->thread, NULL, worker_main, w) == 0;
}

void worker_join(struct worker *w)
{
    pthread_join(w->thread, NULL);
}
