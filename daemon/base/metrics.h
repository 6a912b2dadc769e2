/*
 * metrics: the daemon's counters, gauges and histograms, cheap to update
 * from any thread and read by the operator listener (ops/) on a scrape.
 *
 * Every thread that updates a metric gets its own block (thread-local, made
 * on its first update and linked into a list once); only that thread writes
 * it, with relaxed atomic loads and stores (no lock, no read-modify-write
 * bus lock on the hot path). metrics_snapshot() sums every block with
 * relaxed loads: a scrape sees each value as it was a moment ago, never a
 * torn one. Blocks live as long as the process (a few threads).
 *
 * The names and the exposition format belong to ops/metrics.c; this layer
 * only counts, so that every layer (net, http, db, auth) can.
 */
#ifndef MEDAID_BASE_METRICS_H
#define MEDAID_BASE_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metric_counter {
    /* the worker's flood notes (net/worker.h enum worker_note, same order) */
    MC_CONN_REFUSED_FULL,
    MC_CONN_EVICT_HANDSHAKES,
    MC_CONN_EVICT_ADDRESS,
    MC_TLS_HANDSHAKE_TIMEOUT,
    MC_TLS_HANDSHAKE_FAILED,
    MC_ACCEPT_ERROR,
    MC_PROXY_UNTRUSTED,
    MC_PROXY_BAD_HEADER,
    /* connections that entered a worker */
    MC_CONN_OPENED,
    /* the database pool */
    MC_POOL_QUERIES,          /* statements submitted */
    MC_POOL_WAITS,            /* had to wait for a free connection */
    MC_POOL_WAIT_US,          /* microseconds spent waiting for one */
    MC_POOL_ERRORS,           /* statements that did not end PG_OK */
    MC_POOL_CONNECT_FAILURES, /* connection attempts that failed or connections lost */
    /* answers */
    MC_HTTP_503,
    MC_HTTP_429,
    /* records the audit trail took (group commits that committed) */
    MC_AUDIT_CONSULTATIONS,
    MC_AUDIT_READS,
    /* answers under a monthly cap in the agreements' group commit */
    MC_CAPPED_RECORDED,   /* recorded */
    MC_CAPPED_FLUSHES,    /* group commits that recorded at least one */
    MC_CAPPED_RESTATED,   /* the month's usage had changed: stated again, next flush */
    MC_CAPPED_RECOMPUTED, /* no longer fitting: computed again */
    MC_COUNT
};

enum metric_gauge {
    MG_POOL_CONNS,     /* connections of every pool (configured size) */
    MG_POOL_UP,        /* connections up (idle or busy) */
    MG_POOL_BUSY,      /* running a statement */
    MG_POOL_QUEUED,    /* statements waiting for a connection */
    MG_POOLS,          /* pools (one per worker) */
    MG_POOLS_DOWN,     /* pools with no connection up */
    MG_WORKERS_ACTIVE, /* workers whose loop runs */
    MG_COUNT
};

/* group commits: one batch = one transaction */
enum metric_batch { MB_AGREEMENTS, MB_READS, MB_COUNT };

/* connection states (net/conn.h enum conn_state) */
#define METRICS_CONN_STATES 16
/* routes (http/router.c's table); index METRICS_MAX_ROUTES: no route matched */
#define METRICS_MAX_ROUTES 96
#define METRICS_N_STATUS   32
/* request latency buckets, microseconds (upper bounds; + one for +Inf) */
#define METRICS_N_LATENCY 14
/* batch size buckets (upper bounds; + one for +Inf) */
#define METRICS_N_BATCH 11

extern const int64_t metrics_latency_bounds_us[METRICS_N_LATENCY];
extern const int64_t metrics_batch_bounds[METRICS_N_BATCH];
/* the status codes counted one by one; index METRICS_N_STATUS-1: other */
int metrics_status_code(int index);

void metrics_inc(enum metric_counter c);
void metrics_add(enum metric_counter c, uint64_t n);
void metrics_gauge_add(enum metric_gauge g, int64_t delta);
/* a connection changes state; -1: it appears (from) or goes (to) */
void metrics_conn_state(int from, int to);
/* an answered request: route index (-1: none), status, microseconds */
void metrics_request(int route, int status, int64_t usec);
void metrics_batch(enum metric_batch b, size_t n);

/* the sum of every thread's block */
struct metrics_snapshot {
    uint64_t counters[MC_COUNT];
    int64_t gauges[MG_COUNT];
    int64_t conn_states[METRICS_CONN_STATES];
    uint64_t requests[METRICS_MAX_ROUTES + 1][METRICS_N_STATUS];
    uint64_t latency[METRICS_MAX_ROUTES + 1]
                    [METRICS_N_LATENCY + 1]; /* per bucket, not cumulative */
    uint64_t latency_sum_us[METRICS_MAX_ROUTES + 1];
    uint64_t batch[MB_COUNT][METRICS_N_BATCH + 1];
    uint64_t batch_sum[MB_COUNT];
};
void metrics_snapshot(struct metrics_snapshot *out);
/* one gauge, summed (cheaper than a snapshot) */
int64_t metrics_gauge(enum metric_gauge g);

#endif
