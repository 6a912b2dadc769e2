/*
 * prom: Prometheus text exposition of a metrics snapshot.
 */
#include "ops/prom.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "base/metrics.h"
#include "http/router.h"
#include "net/conn.h"

static void family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_u(struct evbuffer *out, const char *name, const char *labels, uint64_t v)
{
    evbuffer_add_printf(out, "%s%s%s%s %" PRIu64 "\n", name, labels ? "{" : "",
                        labels ? labels : "", labels ? "}" : "", v);
}

static void sample_i(struct evbuffer *out, const char *name, const char *labels, int64_t v)
{
    evbuffer_add_printf(out, "%s%s%s%s %" PRId64 "\n", name, labels ? "{" : "",
                        labels ? labels : "", labels ? "}" : "", v);
}

static void counter(struct evbuffer *out, const char *name, const char *help, uint64_t v)
{
    family(out, name, "counter", help);
    sample_u(out, name, NULL, v);
}

static void gauge(struct evbuffer *out, const char *name, const char *help, int64_t v)
{
    family(out, name, "gauge", help);
    sample_i(out, name, NULL, v);
}

/* a label value: backslash, quote and newline escaped */
static void label_value(char *dst, size_t n, const char *src)
{
    size_t o = 0;
    for (const char *p = src; *p && o + 3 < n; p++) {
        if (*p == '\\' || *p == '"') {
            dst[o++] = '\\';
            dst[o++] = *p;
        } else if (*p == '\n') {
            dst[o++] = '\\';
            dst[o++] = 'n';
        } else {
            dst[o++] = *p;
        }
    }
    dst[o] = '\0';
}

static const char *method_name(enum http_method m)
{
    switch (m) {
    case HM_GET:
        return "GET";
    case HM_HEAD:
        return "HEAD";
    case HM_POST:
        return "POST";
    case HM_PUT:
        return "PUT";
    case HM_DELETE:
        return "DELETE";
    case HM_PATCH:
        return "PATCH";
    case HM_OPTIONS:
        return "OPTIONS";
    case HM_OTHER:
        break;
    }
    return "other";
}

/* the method and route labels of route index r (the last: none) */
static void route_labels(int r, char *out, size_t n)
{
    const struct route *rt = r < METRICS_MAX_ROUTES ? router_route_at((size_t)r) : NULL;
    if (!rt) {
        snprintf(out, n, "method=\"other\",route=\"none\"");
        return;
    }
    char pat[256];
    label_value(pat, sizeof pat, rt->pattern);
    snprintf(out, n, "method=\"%s\",route=\"%s\"", method_name(rt->method), pat);
}

static bool route_used(const struct metrics_snapshot *s, int r)
{
    for (int k = 0; k < METRICS_N_STATUS; k++)
        if (s->requests[r][k])
            return true;
    return false;
}

static void requests(const struct metrics_snapshot *s, struct evbuffer *out)
{
    char labels[400];
    family(out, "medaid_http_requests_total", "counter",
           "Requests answered on the TLS listener, by route (the route table's pattern) and "
           "status code.");
    for (int r = 0; r <= METRICS_MAX_ROUTES; r++) {
        if (!route_used(s, r))
            continue;
        char rl[320];
        route_labels(r, rl, sizeof rl);
        for (int k = 0; k < METRICS_N_STATUS; k++) {
            if (!s->requests[r][k])
                continue;
            int code = metrics_status_code(k);
            if (code)
                snprintf(labels, sizeof labels, "%s,code=\"%d\"", rl, code);
            else
                snprintf(labels, sizeof labels, "%s,code=\"other\"", rl);
            sample_u(out, "medaid_http_requests_total", labels, s->requests[r][k]);
        }
    }
    family(out, "medaid_http_request_duration_seconds", "histogram",
           "Time from a request's first byte to its complete answer, by route.");
    for (int r = 0; r <= METRICS_MAX_ROUTES; r++) {
        if (!route_used(s, r))
            continue;
        char rl[320];
        route_labels(r, rl, sizeof rl);
        uint64_t cum = 0;
        for (int k = 0; k <= METRICS_N_LATENCY; k++) {
            cum += s->latency[r][k];
            if (k < METRICS_N_LATENCY)
                snprintf(labels, sizeof labels, "%s,le=\"%g\"", rl,
                         (double)metrics_latency_bounds_us[k] / 1e6);
            else
                snprintf(labels, sizeof labels, "%s,le=\"+Inf\"", rl);
            sample_u(out, "medaid_http_request_duration_seconds_bucket", labels, cum);
        }
        evbuffer_add_printf(out, "medaid_http_request_duration_seconds_sum{%s} %.6f\n", rl,
                            (double)s->latency_sum_us[r] / 1e6);
        sample_u(out, "medaid_http_request_duration_seconds_count", rl, cum);
    }
}

static void connections(const struct metrics_snapshot *s, struct evbuffer *out)
{
    int64_t in_flight = 0;
    family(out, "medaid_connections", "gauge",
           "Client connections by state (handshake: TLS not finished yet).");
    for (int st = 0; st < METRICS_CONN_STATES; st++) {
        const char *name = conn_state_name((enum conn_state)st);
        if (!name || st == CS_CLOSED)
            continue;
        char labels[64];
        snprintf(labels, sizeof labels, "state=\"%s\"", name);
        sample_i(out, "medaid_connections", labels, s->conn_states[st]);
        if (conn_state_in_flight((enum conn_state)st))
            in_flight += s->conn_states[st];
    }
    gauge(out, "medaid_http_requests_in_flight",
          "Requests received (in part or whole) and not answered yet.", in_flight);
    counter(out, "medaid_connections_opened_total", "Client connections accepted by a worker.",
            s->counters[MC_CONN_OPENED]);
    family(out, "medaid_connections_closed_early_total", "counter",
           "Client connections refused or closed by the caps, by reason.");
    sample_u(out, "medaid_connections_closed_early_total", "reason=\"max_connections\"",
             s->counters[MC_CONN_REFUSED_FULL]);
    sample_u(out, "medaid_connections_closed_early_total", "reason=\"max_handshakes\"",
             s->counters[MC_CONN_EVICT_HANDSHAKES]);
    sample_u(out, "medaid_connections_closed_early_total", "reason=\"max_handshakes_per_address\"",
             s->counters[MC_CONN_EVICT_ADDRESS]);
    sample_u(out, "medaid_connections_closed_early_total", "reason=\"proxy_untrusted\"",
             s->counters[MC_PROXY_UNTRUSTED]);
    sample_u(out, "medaid_connections_closed_early_total", "reason=\"proxy_header\"",
             s->counters[MC_PROXY_BAD_HEADER]);
    family(out, "medaid_tls_handshake_failures_total", "counter",
           "TLS handshakes that did not complete, by reason.");
    sample_u(out, "medaid_tls_handshake_failures_total", "reason=\"failed\"",
             s->counters[MC_TLS_HANDSHAKE_FAILED]);
    sample_u(out, "medaid_tls_handshake_failures_total", "reason=\"timeout\"",
             s->counters[MC_TLS_HANDSHAKE_TIMEOUT]);
    counter(out, "medaid_accept_errors_total", "accept() failures (descriptors, memory).",
            s->counters[MC_ACCEPT_ERROR]);
}

static void database(const struct metrics_snapshot *s, struct evbuffer *out)
{
    gauge(out, "medaid_db_pools", "Database pools (one per worker).", s->gauges[MG_POOLS]);
    gauge(out, "medaid_db_pools_down", "Database pools without any connection up.",
          s->gauges[MG_POOLS_DOWN]);
    gauge(out, "medaid_db_pool_connections", "Database connections of every pool (configured).",
          s->gauges[MG_POOL_CONNS]);
    gauge(out, "medaid_db_pool_connections_up", "Database connections up (idle or busy).",
          s->gauges[MG_POOL_UP]);
    counter(out, "medaid_db_statements_total", "Statements submitted to the pools.",
            s->counters[MC_POOL_QUERIES]);
    counter(out, "medaid_db_pool_waits_total", "Statements that had to wait for a free connection.",
            s->counters[MC_POOL_WAITS]);
    family(out, "medaid_db_pool_wait_seconds_total", "counter",
           "Time statements spent waiting for a free connection.");
    evbuffer_add_printf(out, "medaid_db_pool_wait_seconds_total %.6f\n",
                        (double)s->counters[MC_POOL_WAIT_US] / 1e6);
    counter(out, "medaid_db_errors_total",
            "Statements that ended unavailable, lost or timed out (answered 503).",
            s->counters[MC_POOL_ERRORS]);
    counter(out, "medaid_db_connection_failures_total",
            "Database connection attempts that failed and connections lost.",
            s->counters[MC_POOL_CONNECT_FAILURES]);
}

static void batches(const struct metrics_snapshot *s, struct evbuffer *out)
{
    static const char *const queue[MB_COUNT] = {
        [MB_AGREEMENTS] = "agreements", [MB_READS] = "reads"};
    family(out, "medaid_group_commit_batch_size", "histogram",
           "Records per group-commit transaction, by queue.");
    for (int m = 0; m < MB_COUNT; m++) {
        uint64_t cum = 0;
        char labels[96];
        for (int k = 0; k <= METRICS_N_BATCH; k++) {
            cum += s->batch[m][k];
            if (k < METRICS_N_BATCH)
                snprintf(labels, sizeof labels, "queue=\"%s\",le=\"%" PRId64 "\"", queue[m],
                         metrics_batch_bounds[k]);
            else
                snprintf(labels, sizeof labels, "queue=\"%s\",le=\"+Inf\"", queue[m]);
            sample_u(out, "medaid_group_commit_batch_size_bucket", labels, cum);
        }
        snprintf(labels, sizeof labels, "queue=\"%s\"", queue[m]);
        sample_u(out, "medaid_group_commit_batch_size_sum", labels, s->batch_sum[m]);
        sample_u(out, "medaid_group_commit_batch_size_count", labels, cum);
    }
    family(out, "medaid_audit_records_written_total", "counter",
           "Records committed to the audit trail, by kind (consultation: a coverage answer; "
           "read: a read of a person's data).");
    sample_u(out, "medaid_audit_records_written_total", "kind=\"consultation\"",
             s->counters[MC_AUDIT_CONSULTATIONS]);
    sample_u(out, "medaid_audit_records_written_total", "kind=\"read\"",
             s->counters[MC_AUDIT_READS]);
    family(out, "medaid_group_commit_capped_total", "counter",
           "Coverage answers under a monthly cap in the agreements' group commit, by outcome "
           "(recorded; restated: the month's usage had changed, stated again for the next "
           "group commit; recomputed: it no longer fitted, computed again).");
    static const struct {
        const char *labels;
        enum metric_counter c;
    } capped[] = {{"outcome=\"recorded\"", MC_CAPPED_RECORDED},
                  {"outcome=\"restated\"", MC_CAPPED_RESTATED},
                  {"outcome=\"recomputed\"", MC_CAPPED_RECOMPUTED}};
    for (size_t i = 0; i < sizeof capped / sizeof *capped; i++)
        sample_u(out, "medaid_group_commit_capped_total", capped[i].labels,
                 s->counters[capped[i].c]);
    counter(out, "medaid_group_commit_capped_flushes_total",
            "Agreement group commits that recorded at least one answer under a monthly cap.",
            s->counters[MC_CAPPED_FLUSHES]);
}

void prom_render(const struct metrics_snapshot *s, struct evbuffer *out)
{
    requests(s, out);
    counter(out, "medaid_http_unavailable_total",
            "Answers 503 (database unavailable or too slow, shutting down).",
            s->counters[MC_HTTP_503]);
    counter(out, "medaid_http_rate_limited_total", "Answers 429 (a principal over its rate).",
            s->counters[MC_HTTP_429]);
    connections(s, out);
    database(s, out);
    batches(s, out);
    gauge(out, "medaid_workers", "Worker threads whose event loop runs.",
          s->gauges[MG_WORKERS_ACTIVE]);
}
