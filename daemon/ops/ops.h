/*
 * ops: the operator listener, plain HTTP on ops_listen (loopback by
 * default, empty = off), on the main thread's loop so that a scrape never
 * costs a worker anything but its relaxed counters:
 *
 *   GET /metrics   Prometheus text (ops/prom.h)
 *   GET /healthz   200 "ok": the process answers
 *   GET /readyz    200 "ready" when every worker's database pool has a
 *                  connection up and the daemon is not draining; 503 with
 *                  the reason otherwise
 *
 * One request per connection (answered with Connection: close), heads up
 * to 8 KiB, 5 s to send it, at most 32 connections at once.
 */
#ifndef MEDAID_OPS_OPS_H
#define MEDAID_OPS_OPS_H

#include <stdbool.h>

struct config;
struct event_base;

/* Listen on cfg->ops_listen (nothing when empty); false (logged) when the
 * address cannot be bound. */
bool ops_start(struct event_base *base, const struct config *cfg);
void ops_stop(void);

#endif
