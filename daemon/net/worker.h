/*
 * worker: one thread's event loop, its listening socket, its connections
 * and the application data the upper layers attach to it (the database
 * handle: server_set_worker_hooks). struct worker is defined only in
 * net/worker.c.
 */
#ifndef MEDAID_NET_WORKER_H
#define MEDAID_NET_WORKER_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct conn_set;
struct proxy_trust;
struct event_base;
struct worker;

/* attach: called on the worker's thread before its loop runs; NULL fails
 * the start. detach: after the loop ended and every connection is freed. */
struct worker_hooks {
    void *(*attach)(struct event_base *base, const struct config *cfg, const char *tag);
    void (*detach)(void *app);
};
/* Set once, before server_run. */
void server_set_worker_hooks(const struct worker_hooks *h);

/* A worker on listen_fd (-1: none, for tests) and proxy_fd (proxy_listen;
 * -1: none), both taken; NULL on failure. */
struct worker *worker_new(int idx, const struct config *cfg, int listen_fd, int proxy_fd);
/* A worker on a loop of the caller's (tests, fuzzing): no listener, no thread. */
struct worker *worker_new_on(struct event_base *base, const struct config *cfg);
void worker_free(struct worker *w);
bool worker_start(struct worker *w, void (*done)(void *arg), void *arg);
void worker_join(struct worker *w);
/* From the main thread: the worker takes the reloadable options of fresh
 * (copied here) into its own copy of the configuration, on its own thread. */
void worker_reload(struct worker *w, const struct config *fresh);
/* From any thread: stop accepting, finish what is in flight, stop. */
void worker_drain(struct worker *w);

struct event_base *worker_base(const struct worker *w);
const struct config *worker_config(const struct worker *w);
const char *worker_tag(const struct worker *w);
void *worker_app(const struct worker *w);
bool worker_draining(const struct worker *w);
struct conn_set *worker_conns(const struct worker *w);
/* proxy_trusted, parsed (empty for worker_new_on) */
const struct proxy_trust *worker_proxy_trust(const struct worker *w);
/* Called by conn when a connection or request finishes, so a draining
 * worker can stop when nothing is left. */
void worker_check_drained(struct worker *w);
/* Ask for conn_reap after this loop turn. */
void worker_schedule_reap(struct worker *w);

/* What a flood produces by the thousand: counted, and logged as one line
 * of counts at most once a second per worker (never one line each). */
enum worker_note {
    WN_REFUSED_FULL,     /* max_connections reached, no handshake to close */
    WN_EVICT_HANDSHAKES, /* oldest handshake closed for a new connection */
    WN_EVICT_ADDRESS,    /* that address's oldest handshake closed */
    WN_HS_TIMEOUT,       /* handshake not done within tls_handshake_timeout_ms */
    WN_HS_FAILED,        /* handshake failed or abandoned */
    WN_ACCEPT_ERROR,     /* accept() failed (descriptors, memory) */
    WN_PROXY_UNTRUSTED,  /* proxy_listen: a peer outside proxy_trusted */
    WN_PROXY_BAD,        /* proxy_listen: no valid PROXY v2 header (bad, cut, late) */
    WN_COUNT
};
/* detail (may be NULL): the reason, the last one is shown with the counts */
void worker_note(struct worker *w, enum worker_note n, const char *detail);

#endif
