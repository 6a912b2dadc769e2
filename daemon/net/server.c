/*
 * server: start-up, worker threads, signals, reload and shutdown.
 *
 * The main thread owns the signals (libevent signal events on its own
 * event base; the workers block them). SIGTERM/SIGINT: every worker stops
 * accepting, closes idle connections, finishes the requests in flight
 * (bounded by shutdown_timeout_ms) and stops; the process exits 0. A second
 * SIGTERM/SIGINT exits at once (status 1). SIGHUP reloads the TLS files and
 * log_level; SIGUSR1 reopens the log file.
 */
#include "net/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "db/db.h"
#include "net/conn.h"
#include "base/log.h"
#include "net/tls.h"

struct server {
    struct config *cfg;
    const char *config_path;
    char **overrides; /* "--key=value" flags, re-applied on SIGHUP */
    int n_overrides;
    struct event_base *base;
    struct worker *workers;
    int n_workers;
    atomic_int n_done;
    struct event *ev_worker_done;
    int n_term;
};

static struct server *the_server;

/* ---- workers ------------------------------------------------------------------ */

void worker_check_drained(struct worker *w)
{
    if (w->draining && TAILQ_EMPTY(&w->conns))
        event_base_loopexit(w->base, NULL);
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
    conn_accept(arg, fd, sa, salen);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    (void)l;
    struct worker *w = arg;
    int e = EVUTIL_SOCKET_ERROR();
    log_error("%s: accept: %s", w->tag, evutil_socket_error_to_string(e));
    /* EMFILE and friends: let the loop breathe rather than spin */
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        evconnlistener_disable(w->listener);
        struct timeval tv = {0, 200 * 1000};
        event_base_once(w->base, -1, EV_TIMEOUT,
                        (event_callback_fn)(void (*)(void))evconnlistener_enable, w->listener, &tv);
    }
}

static void drain_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    log_warn("%s: shutdown_timeout reached with %zu request(s) in flight; stopping", w->tag,
             w->n_in_flight);
    event_base_loopbreak(w->base);
}

static void cmd_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    if (atomic_load(&w->cmd) != SERVER_CMD_DRAIN || w->draining)
        return;
    w->draining = true;
    if (w->listener) {
        evconnlistener_free(w->listener); /* closes the listening socket */
        w->listener = NULL;
    }
    conn_drain_all(w);
    struct timeval tv = {(time_t)(w->cfg->shutdown_timeout_ms / 1000),
                         (suseconds_t)((w->cfg->shutdown_timeout_ms % 1000) * 1000)};
    evtimer_add(w->ev_drain_deadline, &tv);
    worker_check_drained(w);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    event_base_dispatch(w->base);
    conn_free_all(w);
    db_free(w->db);
    w->db = NULL;
    if (w->listener)
        evconnlistener_free(w->listener);
    w->listener = NULL;
    event_free(w->ev_reap);
    event_free(w->ev_cmd);
    event_free(w->ev_drain_deadline);
    event_base_free(w->base);
    w->base = NULL;
    atomic_fetch_add(&the_server->n_done, 1);
    event_active(the_server->ev_worker_done, EV_READ, 0);
    return NULL;
}

static bool worker_init(struct worker *w, int idx, const struct config *cfg, int fd)
{
    w->idx = idx;
    snprintf(w->tag, sizeof w->tag, "w%d", idx);
    w->cfg = cfg;
    w->listen_fd = fd;
    TAILQ_INIT(&w->conns);
    TAILQ_INIT(&w->reap);
    w->base = event_base_new();
    if (!w->base)
        return false;
    w->db = db_new(w->base, cfg, w->tag);
    w->ev_reap = event_new(w->base, -1, 0, reap_cb, w);
    w->ev_cmd = event_new(w->base, -1, 0, cmd_cb, w);
    w->ev_drain_deadline = evtimer_new(w->base, drain_deadline_cb, w);
    w->listener = evconnlistener_new(w->base, accept_cb, w, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (!w->db || !w->ev_reap || !w->ev_cmd || !w->ev_drain_deadline || !w->listener)
        return false;
    evconnlistener_set_error_cb(w->listener, accept_error_cb);
    return true;
}

/* ---- listening sockets ----------------------------------------------------------- */

static bool split_listen(const char *listen, char *host, size_t hn, char *port, size_t pn)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *rb = strchr(listen, ']');
        if (!rb || rb[1] != ':')
            return false;
        snprintf(host, hn, "%.*s", (int)(rb - listen - 1), listen + 1);
        colon = rb + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            return false;
        snprintf(host, hn, "%.*s", (int)(colon - listen), listen);
    }
    snprintf(port, pn, "%s", colon + 1);
    return *port != '\0';
}

static int bind_one(const struct addrinfo *ai, bool reuseport)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        goto fail;
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        goto fail;
    if (reuseport && listen(fd, 1024) != 0)
        goto fail;
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* n sockets on the same address (SO_REUSEPORT); refuses a port someone
 * else already holds, even another medaidd. */
static bool open_listeners(const char *listen, int n, int *fds)
{
    char host[256], port[16];
    if (!split_listen(listen, host, sizeof host, port, sizeof port)) {
        log_error("listen: \"%s\" is not address:port", listen);
        return false;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
    if (rc != 0) {
        log_error("listen %s: %s", listen, gai_strerror(rc));
        return false;
    }
    int probe = bind_one(ai, false);
    if (probe < 0) {
        log_error("listen %s: %s", listen, strerror(errno));
        freeaddrinfo(ai);
        return false;
    }
    close(probe);
    for (int i = 0; i < n; i++) {
        fds[i] = bind_one(ai, true);
        if (fds[i] < 0) {
            log_error("listen %s: %s", listen, strerror(errno));
            while (i-- > 0)
                close(fds[i]);
            freeaddrinfo(ai);
            return false;
        }
    }
    freeaddrinfo(ai);
    return true;
}

/* ---- signals ------------------------------------------------------------------------ */

static void begin_shutdown(struct server *s)
{
    for (int i = 0; i < s->n_workers; i++) {
        atomic_store(&s->workers[i].cmd, SERVER_CMD_DRAIN);
        event_active(s->workers[i].ev_cmd, EV_READ, 0);
    }
}

static void term_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct server *s = arg;
    if (++s->n_term > 1) {
        log_warn("second %s: exiting now", sig == SIGINT ? "SIGINT" : "SIGTERM");
        _exit(1);
    }
    log_info("%s: draining (up to %lld ms), then exiting", sig == SIGINT ? "SIGINT" : "SIGTERM",
             (long long)s->cfg->shutdown_timeout_ms);
    begin_shutdown(s);
}

static void swap_str(char **a, char **b)
{
    char *t = *a;
    *a = *b;
    *b = t;
}

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct server *s = arg;
    struct config fresh;
    char err[512];
    config_init(&fresh);
    if (s->config_path && !config_load_file(&fresh, s->config_path, err, sizeof err)) {
        log_error("SIGHUP: %s; keeping the running configuration", err);
        goto out;
    }
    for (int i = 0; i < s->n_overrides; i++) {
        const char *kv = s->overrides[i] + 2; /* "--key=value" */
        const char *eq = strchr(kv, '=');
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        if (!config_set(&fresh, key, eq + 1, err, sizeof err)) {
            log_error("SIGHUP: %s", err);
            goto out;
        }
    }
    enum log_level lvl;
    if (!config_validate(&fresh, true, err, sizeof err) ||
        !log_level_from_name(fresh.log_level, &lvl) || !tls_load(&fresh, err, sizeof err)) {
        log_error("SIGHUP: %s; keeping the previous TLS context", err);
        goto out;
    }
    log_set_level(lvl);
    /* only the main thread reads these strings */
    swap_str(&s->cfg->tls_cert, &fresh.tls_cert);
    swap_str(&s->cfg->tls_key, &fresh.tls_key);
    swap_str(&s->cfg->tls_ca, &fresh.tls_ca);
    swap_str(&s->cfg->tls_crl, &fresh.tls_crl);
    swap_str(&s->cfg->log_level, &fresh.log_level);
    log_info("SIGHUP: TLS certificate, key, CA, CRL and log_level reloaded "
             "(other options need a restart)");
out:
    config_free(&fresh);
}

static void usr1_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct server *s = arg;
    if (!log_open(s->cfg->log_file))
        log_error("SIGUSR1: cannot reopen %s", s->cfg->log_file);
    else
        log_info("SIGUSR1: log reopened");
}

static void worker_done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct server *s = arg;
    if (atomic_load(&s->n_done) == s->n_workers)
        event_base_loopexit(s->base, NULL);
}

/* ---- run ------------------------------------------------------------------------------ */

int server_run(struct config *cfg, const char *config_path, char **overrides, int n_overrides)
{
    struct server s = {
        .cfg = cfg, .config_path = config_path, .overrides = overrides, .n_overrides = n_overrides};
    the_server = &s;
    int rc = 2;

    if (evthread_use_pthreads() != 0) {
        log_error("libevent without thread support");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    s.n_workers = cfg->workers > 0 ? (int)cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (s.n_workers < 1)
        s.n_workers = 1;
    int *fds = calloc((size_t)s.n_workers, sizeof *fds);
    s.workers = calloc((size_t)s.n_workers, sizeof *s.workers);
    if (!fds || !s.workers) {
        free(fds);
        free(s.workers);
        return 2;
    }
    if (!open_listeners(cfg->listen, s.n_workers, fds)) {
        free(fds);
        free(s.workers);
        return 2;
    }
    if (*cfg->pid_file) {
        FILE *pf = fopen(cfg->pid_file, "w");
        if (!pf || fprintf(pf, "%ld\n", (long)getpid()) < 0 || fclose(pf) != 0) {
            log_error("pid_file %s: %s", cfg->pid_file, strerror(errno));
            for (int i = 0; i < s.n_workers; i++)
                close(fds[i]);
            free(fds);
            free(s.workers);
            return 2;
        }
    }

    /* workers inherit a mask that blocks the signals the main thread handles */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    s.base = event_base_new();
    struct event *ev_term = s.base ? evsignal_new(s.base, SIGTERM, term_cb, &s) : NULL;
    struct event *ev_int = s.base ? evsignal_new(s.base, SIGINT, term_cb, &s) : NULL;
    struct event *ev_hup = s.base ? evsignal_new(s.base, SIGHUP, hup_cb, &s) : NULL;
    struct event *ev_usr1 = s.base ? evsignal_new(s.base, SIGUSR1, usr1_cb, &s) : NULL;
    s.ev_worker_done = s.base ? event_new(s.base, -1, 0, worker_done_cb, &s) : NULL;
    if (!ev_term || !ev_int || !ev_hup || !ev_usr1 || !s.ev_worker_done ||
        event_add(ev_term, NULL) || event_add(ev_int, NULL) || event_add(ev_hup, NULL) ||
        event_add(ev_usr1, NULL)) {
        log_error("cannot set up signal handling");
        goto out;
    }

    int started = 0;
    for (int i = 0; i < s.n_workers; i++) {
        if (!worker_init(&s.workers[i], i, cfg, fds[i])) {
            log_error("cannot set up worker %d", i);
            break;
        }
        if (pthread_create(&s.workers[i].thread, NULL, worker_main, &s.workers[i]) != 0) {
            log_error("cannot start worker %d", i);
            break;
        }
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started < s.n_workers) {
        s.n_workers = started;
        begin_shutdown(&s);
    } else {
        log_info("medaidd listening on %s with %d worker(s), pool of %lld per worker", cfg->listen,
                 s.n_workers, (long long)cfg->db_pool_size);
        rc = 0;
    }
    if (s.n_workers > 0)
        event_base_dispatch(s.base);
    for (int i = 0; i < s.n_workers; i++)
        pthread_join(s.workers[i].thread, NULL);
    if (rc == 0)
        log_info("medaidd stopped");
out:
    if (ev_term)
        event_free(ev_term);
    if (ev_int)
        event_free(ev_int);
    if (ev_hup)
        event_free(ev_hup);
    if (ev_usr1)
        event_free(ev_usr1);
    if (s.ev_worker_done)
        event_free(s.ev_worker_done);
    if (s.base)
        event_base_free(s.base);
    if (*cfg->pid_file)
        unlink(cfg->pid_file);
    free(fds);
    free(s.workers);
    the_server = NULL;
    return rc;
}
