/*
 * metrics: per-thread blocks of relaxed atomics, summed on a scrape.
 */
#include "base/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/mem.h"

const int64_t metrics_latency_bounds_us[METRICS_N_LATENCY] = {
    1000,   2500,   5000,    10000,   25000,   50000,    100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000};
const int64_t metrics_batch_bounds[METRICS_N_BATCH] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000};

/* every status the daemon sends, then "other" */
static const int16_t status_codes[METRICS_N_STATUS - 1] = {
    200, 201, 202, 204, 206, 304, 400, 401, 403, 404, 405, 406, 408, 409, 410, 411,
    412, 413, 415, 416, 422, 428, 429, 431, 500, 501, 502, 503, 504, 505, 507};

int metrics_status_code(int index)
{
    return index >= 0 && index < METRICS_N_STATUS - 1 ? status_codes[index] : 0;
}

static int status_index(int status)
{
    for (int i = 0; i < METRICS_N_STATUS - 1; i++)
        if (status_codes[i] == status)
            return i;
    return METRICS_N_STATUS - 1;
}

struct block {
    _Atomic uint64_t counters[MC_COUNT];
    _Atomic int64_t gauges[MG_COUNT];
    _Atomic int64_t conn_states[METRICS_CONN_STATES];
    _Atomic uint64_t requests[METRICS_MAX_ROUTES + 1][METRICS_N_STATUS];
    _Atomic uint64_t latency[METRICS_MAX_ROUTES + 1][METRICS_N_LATENCY + 1];
    _Atomic uint64_t latency_sum_us[METRICS_MAX_ROUTES + 1];
    _Atomic uint64_t batch[MB_COUNT][METRICS_N_BATCH + 1];
    _Atomic uint64_t batch_sum[MB_COUNT];
    struct block *next;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block *blocks;
static _Thread_local struct block *mine;

static struct block *my_block(void)
{
    if (mine)
        return mine;
    struct block *b = xcalloc(1, sizeof *b); /* zeroed: every atomic starts at 0 */
    pthread_mutex_lock(&list_lock);
    b->next = blocks;
    blocks = b;
    pthread_mutex_unlock(&list_lock);
    mine = b;
    return b;
}

/* only this thread writes its block: a relaxed load and store is enough */
static void bump_u(_Atomic uint64_t *p, uint64_t n)
{
    atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static void bump_i(_Atomic int64_t *p, int64_t n)
{
    atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

void metrics_inc(enum metric_counter c)
{
    bump_u(&my_block()->counters[c], 1);
}

void metrics_add(enum metric_counter c, uint64_t n)
{
    bump_u(&my_block()->counters[c], n);
}

void metrics_gauge_add(enum metric_gauge g, int64_t delta)
{
    bump_i(&my_block()->gauges[g], delta);
}

void metrics_conn_state(int from, int to)
{
    struct block *b = my_block();
    if (from >= 0 && from < METRICS_CONN_STATES)
        bump_i(&b->conn_states[from], -1);
    if (to >= 0 && to < METRICS_CONN_STATES)
        bump_i(&b->conn_states[to], 1);
}

void metrics_request(int route, int status, int64_t usec)
{
    struct block *b = my_block();
    if (route < 0 || route >= METRICS_MAX_ROUTES)
        route = METRICS_MAX_ROUTES;
    if (usec < 0)
        usec = 0;
    bump_u(&b->requests[route][status_index(status)], 1);
    int k = 0;
    while (k < METRICS_N_LATENCY && usec > metrics_latency_bounds_us[k])
        k++;
    bump_u(&b->latency[route][k], 1);
    bump_u(&b->latency_sum_us[route], (uint64_t)usec);
    if (status == 503)
        bump_u(&b->counters[MC_HTTP_503], 1);
    else if (status == 429)
        bump_u(&b->counters[MC_HTTP_429], 1);
}

void metrics_batch(enum metric_batch which, size_t n)
{
    struct block *b = my_block();
    int k = 0;
    while (k < METRICS_N_BATCH && (int64_t)n > metrics_batch_bounds[k])
        k++;
    bump_u(&b->batch[which][k], 1);
    bump_u(&b->batch_sum[which], n);
}

int64_t metrics_gauge(enum metric_gauge g)
{
    int64_t sum = 0;
    pthread_mutex_lock(&list_lock);
    for (struct block *b = blocks; b; b = b->next)
        sum += atomic_load_explicit(&b->gauges[g], memory_order_relaxed);
    pthread_mutex_unlock(&list_lock);
    return sum;
}

#define SUM_U(dst, src) (dst) += atomic_load_explicit(&(src), memory_order_relaxed)

void metrics_snapshot(struct metrics_snapshot *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&list_lock);
    for (struct block *b = blocks; b; b = b->next) {
        for (int i = 0; i < MC_COUNT; i++)
            SUM_U(out->counters[i], b->counters[i]);
        for (int i = 0; i < MG_COUNT; i++)
            SUM_U(out->gauges[i], b->gauges[i]);
        for (int i = 0; i < METRICS_CONN_STATES; i++)
            SUM_U(out->conn_states[i], b->conn_states[i]);
        for (int r = 0; r <= METRICS_MAX_ROUTES; r++) {
            for (int s = 0; s < METRICS_N_STATUS; s++)
                SUM_U(out->requests[r][s], b->requests[r][s]);
            for (int k = 0; k <= METRICS_N_LATENCY; k++)
                SUM_U(out->latency[r][k], b->latency[r][k]);
            SUM_U(out->latency_sum_us[r], b->latency_sum_us[r]);
        }
        for (int m = 0; m < MB_COUNT; m++) {
            for (int k = 0; k <= METRICS_N_BATCH; k++)
                SUM_U(out->batch[m][k], b->batch[m][k]);
            SUM_U(out->batch_sum[m], b->batch_sum[m]);
        }
    }
    pthread_mutex_unlock(&list_lock);
}
