/*
 * server: worker threads, listening sockets, signals and shutdown.
 *
 * Each worker has its own event loop, its own listening socket on the
 * shared port (SO_REUSEPORT), its own connections and its own PostgreSQL
 * pool; workers share nothing but the TLS context and the log.
 */
#ifndef MEDAID_SERVER_H
#define MEDAID_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "base/config.h"

struct conn;
TAILQ_HEAD(conn_list, conn);

struct worker {
    int idx;
    char tag[16]; /* "w0" */
    pthread_t thread;
    struct event_base *base;
    struct evconnlistener *listener;
    int listen_fd;
    const struct config *cfg;
    struct db *db; /* pool and group-commit queues */

    struct conn_list conns; /* open or waiting for a pending request */
    struct conn_list reap;  /* closed, freed after the current loop turn */
    struct event *ev_reap;
    size_t n_conns;
    size_t n_in_flight; /* requests being handled */
    uint64_t next_conn_id;

    struct event *ev_cmd; /* activated by the main thread */
    atomic_int cmd;       /* SERVER_CMD_* */
    bool draining;
    struct event *ev_drain_deadline;
};

enum { SERVER_CMD_NONE, SERVER_CMD_DRAIN };

/* Run the daemon until SIGTERM/SIGINT; returns the exit code.
 * overrides: the "--key=value" flags, re-applied over the file on SIGHUP. */
int server_run(struct config *cfg, const char *config_path, char **overrides, int n_overrides);

/* Called by conn when a connection or request finishes, so a draining
 * worker can stop when nothing is left. */
void worker_check_drained(struct worker *w);

#endif
