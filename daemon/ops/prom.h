/*
 * prom: the daemon's metrics (base/metrics.h) in the Prometheus text
 * exposition format (version 0.0.4), every family with HELP and TYPE.
 * The names are listed in docs/operations.md.
 */
#ifndef MEDAID_OPS_PROM_H
#define MEDAID_OPS_PROM_H

struct evbuffer;
struct metrics_snapshot;

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Append the exposition of snap to out. */
void prom_render(const struct metrics_snapshot *snap, struct evbuffer *out);

#endif
