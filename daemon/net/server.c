/*
 * server: start-up, worker threads, signals, reload and shutdown.
 *
 * The main thread owns the signals (libevent signal events on its own
 * event base; the workers block them). SIGTERM/SIGINT: every worker stops
 * accepting, closes idle connections, finishes the requests in flight
 * (bounded by shutdown_timeout_ms) and stops; the process exits 0. A second
 * SIGTERM/SIGINT exits at once (status 1). SIGHUP re-reads the config file
 * (and the --key=value flags over it): the options the table marks
 * reloadable are handed to every worker (each takes its copy on its own
 * thread), the TLS files are loaded again, and every other option that
 * changed is logged by name as needing a restart; SIGUSR1 reopens the log
 * file.
 *
 * systemd (sd_notify, a no-op without NOTIFY_SOCKET): READY=1 once the
 * listeners are open and every worker's pool has a connection up;
 * RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a SIGHUP;
 * STOPPING=1 at the first SIGTERM/SIGINT.
 */
#include "net/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <systemd/sd-daemon.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "net/proxy.h"
#include "net/tls.h"
#include "net/worker.h"

struct server {
    struct config *cfg;
    const char *config_path;
    char **overrides; /* "--key=value" flags, re-applied on SIGHUP */
    int n_overrides;
    struct event_base *base;
    struct worker **workers;
    int n_workers;
    atomic_int n_done;
    struct event *ev_worker_done;
    struct event *ev_ready; /* polls until the pools are up, then READY=1 */
    int64_t started_ms;
    bool ready, waiting_logged;
    int n_term;
};

static const struct server_hooks *main_hooks;
static atomic_bool draining;

void server_set_hooks(const struct server_hooks *h)
{
    main_hooks = h;
}

bool server_draining(void)
{
    return atomic_load(&draining);
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
    atomic_store(&draining, true);
    for (int i = 0; i < s->n_workers; i++) {
        worker_drain(s->workers[i]);
    }
}

static void term_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct server *s = arg;
    if (++s->n_term > 1) {
        log_warn("second %s: exiting now", sig == SIGINT ? "SIGINT" : "SIGTERM");
        if (*s->cfg->pid_file)
            unlink(s->cfg->pid_file); /* on every exit, this one too */
        _exit(1);
    }
    log_info("%s: draining (up to %lld ms), then exiting", sig == SIGINT ? "SIGINT" : "SIGTERM",
             (long long)s->cfg->shutdown_timeout_ms);
    sd_notify(0, "STOPPING=1\nSTATUS=draining");
    begin_shutdown(s);
}

/* what a reload changed, for its log lines */
struct reload_note {
    char applied[512];
    size_t n_applied, n_restart;
};

static void reload_changed(const char *name, bool reloadable, void *arg)
{
    struct reload_note *rn = arg;
    if (!reloadable) {
        /* the name only: the value may be a secret */
        log_warn("SIGHUP: %s changed; it takes effect at the next restart", name);
        rn->n_restart++;
        return;
    }
    size_t l = strlen(rn->applied);
    snprintf(rn->applied + l, sizeof rn->applied - l, "%s%s", l ? ", " : "", name);
    rn->n_applied++;
}

static void notify_ready(const struct server *s)
{
    char st[160];
    snprintf(st, sizeof st, "READY=1\nSTATUS=listening on %s, %d worker(s)", s->cfg->listen,
             s->n_workers);
    sd_notify(0, st);
}

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct server *s = arg;
    struct config fresh;
    char err[512];
    char msg[64];
    snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)mono_us());
    sd_notify(0, msg);
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
            log_error("SIGHUP: %s; keeping the running configuration", err);
            goto out;
        }
    }
    enum log_level lvl;
    if (!config_validate(&fresh, true, err, sizeof err) ||
        !log_level_from_name(fresh.log_level, &lvl) || !tls_load(&fresh, err, sizeof err)) {
        log_error("SIGHUP: %s; keeping the running configuration and TLS context", err);
        goto out;
    }
    struct reload_note rn = {.applied = ""};
    config_changes(s->cfg, &fresh, reload_changed, &rn);
    if (!config_apply_reloadable(s->cfg, &fresh)) {
        log_error("SIGHUP: out of memory; keeping the running configuration");
        goto out;
    }
    log_set_level(lvl);
    for (int i = 0; i < s->n_workers; i++)
        worker_reload(s->workers[i], s->cfg);
    log_info("SIGHUP: TLS files reloaded; %s%s%s", rn.n_applied ? "applied: " : "",
             rn.n_applied ? rn.applied : "no reloadable option changed",
             rn.n_restart ? " (see the warnings for the options that need a restart)" : "");
out:
    config_free(&fresh);
    if (s->ready)
        notify_ready(s);
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

static void worker_done(void *arg)
{
    struct server *s = arg;
    atomic_fetch_add(&s->n_done, 1);
    event_active(s->ev_worker_done, EV_READ, 0);
}

static void worker_done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct server *s = arg;
    if (atomic_load(&s->n_done) == s->n_workers)
        event_base_loopexit(s->base, NULL);
}

/* READY=1 once every worker's pool has a connection up (the listeners
 * are open before the workers start) */
static void ready_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct server *s = arg;
    if (s->ready)
        return;
    if (metrics_gauge(MG_POOLS) >= s->n_workers && metrics_gauge(MG_POOLS_DOWN) == 0) {
        s->ready = true;
        evtimer_del(s->ev_ready);
        notify_ready(s);
        log_info("ready: every worker has a database connection");
        return;
    }
    if (!s->waiting_logged && mono_ms() - s->started_ms > 5000) {
        s->waiting_logged = true;
        log_warn("no database connection yet: waiting before telling systemd READY=1");
        sd_notify(0, "STATUS=waiting for the database");
    }
}

/* ---- run ------------------------------------------------------------------------------ */

/* Every connection is a descriptor: workers × (max_connections + the
 * database pool) plus the listeners and the log. The usual soft limit
 * (1024) is below the default configuration's need, so raise it up to the
 * hard limit; say so when even that is too low (accept() then fails with
 * EMFILE, counted in the once-a-second connection report). */
static void raise_nofile(const struct config *cfg, int n_workers)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t need = (rlim_t)n_workers * (rlim_t)(cfg->max_connections + cfg->db_pool_size + 8) + 64;
    if (rl.rlim_cur < need && rl.rlim_cur != rl.rlim_max) {
        rlim_t old = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            log_info("RLIMIT_NOFILE raised from %llu to %llu", (unsigned long long)old,
                     (unsigned long long)rl.rlim_cur);
        else
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < need)
        log_warn("RLIMIT_NOFILE is %llu but workers x (max_connections + db_pool_size) needs about "
                 "%llu: raise the hard limit (LimitNOFILE=, ulimit -Hn) or lower max_connections",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

int server_run(struct config *cfg, const char *config_path, char **overrides, int n_overrides)
{
    struct server s = {
        .cfg = cfg, .config_path = config_path, .overrides = overrides, .n_overrides = n_overrides};
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
    int *proxy_fds = xcalloc((size_t)s.n_workers, sizeof *proxy_fds);
    s.workers = xcalloc((size_t)s.n_workers, sizeof *s.workers);
    for (int i = 0; i < s.n_workers; i++)
        proxy_fds[i] = -1;
    struct proxy_trust trust;
    char terr[160];
    if (!proxy_trust_parse(cfg->proxy_trusted, &trust, terr, sizeof terr)) {
        log_error("%s", terr);
        free(fds);
        free(proxy_fds);
        free(s.workers);
        return 2;
    }
    if (!fds || !s.workers) {
        free(fds);
        free(proxy_fds);
        free(s.workers);
        return 2;
    }
    raise_nofile(cfg, s.n_workers);
    if (!open_listeners(cfg->listen, s.n_workers, fds)) {
        free(fds);
        free(proxy_fds);
        free(s.workers);
        return 2;
    }
    if (*cfg->proxy_listen && !open_listeners(cfg->proxy_listen, s.n_workers, proxy_fds)) {
        for (int i = 0; i < s.n_workers; i++)
            close(fds[i]);
        free(fds);
        free(proxy_fds);
        free(s.workers);
        return 2;
    }
    if (*cfg->pid_file) {
        FILE *pf = fopen(cfg->pid_file, "w");
        if (!pf || fprintf(pf, "%ld\n", (long)getpid()) < 0 || fclose(pf) != 0) {
            log_error("pid_file %s: %s", cfg->pid_file, strerror(errno));
            if (pf)
                unlink(cfg->pid_file);
            for (int i = 0; i < s.n_workers; i++) {
                close(fds[i]);
                if (proxy_fds[i] >= 0)
                    close(proxy_fds[i]);
            }
            free(fds);
            free(proxy_fds);
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
    s.ev_ready = s.base ? event_new(s.base, -1, EV_PERSIST, ready_cb, &s) : NULL;
    if (!ev_term || !ev_int || !ev_hup || !ev_usr1 || !s.ev_worker_done || !s.ev_ready ||
        event_add(ev_term, NULL) || event_add(ev_int, NULL) || event_add(ev_hup, NULL) ||
        event_add(ev_usr1, NULL)) {
        log_error("cannot set up signal handling");
        goto out;
    }
    /* the operator listener (ops/), on this thread's loop */
    if (main_hooks && main_hooks->start && !main_hooks->start(s.base, cfg)) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        goto out;
    }

    int started = 0;
    for (int i = 0; i < s.n_workers; i++) {
        s.workers[i] = worker_new(i, cfg, fds[i], proxy_fds[i]);
        if (!s.workers[i]) {
            log_error("cannot set up worker %d", i);
            break;
        }
        if (!worker_start(s.workers[i], worker_done, &s)) {
            log_error("cannot start worker %d", i);
            worker_free(s.workers[i]);
            s.workers[i] = NULL;
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
        if (*cfg->proxy_listen)
            log_info("medaidd listening on %s for a balancer (PROXY protocol v2 from %s)",
                     cfg->proxy_listen, cfg->proxy_trusted);
        rc = 0;
        s.started_ms = mono_ms();
        struct timeval tv = clock_tv(50);
        event_add(s.ev_ready, &tv);
    }
    if (s.n_workers > 0)
        event_base_dispatch(s.base);
    for (int i = 0; i < s.n_workers; i++) {
        worker_join(s.workers[i]);
        worker_free(s.workers[i]);
    }
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
    if (s.ev_ready)
        event_free(s.ev_ready);
    if (main_hooks && main_hooks->stop)
        main_hooks->stop();
    if (s.base)
        event_base_free(s.base);
    if (*cfg->pid_file)
        unlink(cfg->pid_file);
    free(fds);
    free(proxy_fds);
    free(s.workers);
    return rc;
}
