/*
 * server: listening sockets, worker threads (net/worker.h), signals and
 * shutdown.
 *
 * Each worker has its own event loop, its own listening socket on the
 * shared port (SO_REUSEPORT), its own connections and its own application
 * data (the PostgreSQL pool, attached through server_set_worker_hooks);
 * workers share nothing but the TLS context and the log.
 */
#ifndef MEDAID_SERVER_H
#define MEDAID_SERVER_H

#include <stdbool.h>

#include "base/config.h"

struct event_base;

/* What runs on the main thread's loop beside the signals: the operator
 * listener (ops/, wired by main.c). start: false fails the start (logged). */
struct server_hooks {
    bool (*start)(struct event_base *base, const struct config *cfg);
    void (*stop)(void);
};
/* Set once, before server_run. */
void server_set_hooks(const struct server_hooks *h);
/* SIGTERM/SIGINT received: the workers are draining (readiness). */
bool server_draining(void);

/* Run the daemon until SIGTERM/SIGINT; returns the exit code.
 * overrides: the "--key=value" flags, re-applied over the file on SIGHUP. */
int server_run(struct config *cfg, const char *config_path, char **overrides, int n_overrides);

#endif
