/* unit tests: auth/ratelimit (token buckets per principal, shared by threads) */
#include <pthread.h>
#include <stdatomic.h>

#include "auth/ratelimit.h"

#include "../tap.h"

#define THREADS    4
#define PER_THREAD 250

static _Atomic int granted;

static void *hammer(void *arg)
{
    (void)arg;
    int64_t retry;
    for (int i = 0; i < PER_THREAD; i++)
        if (ratelimit_take(77, 1, 600, 5000, &retry))
            atomic_fetch_add(&granted, 1);
    return NULL;
}

int main(void)
{
    int64_t retry = 0;
    int n = 0;
    for (int i = 0; i < 10; i++)
        n += ratelimit_take(1, 2, 5, 1000, &retry);
    is_int(n, 5, "a new bucket grants its burst at once, no more");
    ok(!ratelimit_take(1, 2, 5, 1000, &retry), "empty bucket refuses");
    is_int(retry, 1, "Retry-After rounds 500 ms up to 1 s");
    is_int((long long)ratelimit_refused(), 6, "refusals are counted");
    ok(ratelimit_take(2, 2, 5, 1000, &retry), "another principal has its own bucket");
    ok(!ratelimit_take(1, 2, 5, 1499, &retry), "499 ms later: still less than a token");
    ok(ratelimit_take(1, 2, 5, 1500, &retry), "500 ms at 2/s: one token back");
    ok(!ratelimit_take(1, 2, 5, 1500, &retry), "and only one");
    n = 0;
    for (int i = 0; i < 10; i++)
        n += ratelimit_take(1, 2, 5, 100000, &retry);
    is_int(n, 5, "a long pause refills up to the burst, not beyond");

    ok(ratelimit_take(3, 1, 1, 0, &retry), "rate 1/s, burst 1: the first");
    ok(!ratelimit_take(3, 1, 1, 0, &retry), "rate 1/s, burst 1: the second refused");
    is_int(retry, 1, "retry after 1 s");
    ok(ratelimit_take(3, 1, 1, 1000, &retry), "served again after Retry-After");
    ratelimit_take(4, 1, 10, 0, &retry);
    for (int i = 0; i < 9; i++)
        ratelimit_take(4, 1, 10, 0, &retry);
    ok(!ratelimit_take(4, 1, 10, 0, &retry), "burst 10 spent");
    ok(!ratelimit_take(4, 1, 10, 999, &retry), "999 ms at 1/s is not a token");
    is_int(retry, 1, "Retry-After is never 0");
    ok(ratelimit_take(5, 0, 1, 0, &retry) && ratelimit_take(5, 0, 1, 0, &retry) &&
           ratelimit_take(5, 0, 1, 0, &retry),
       "rate 0 means no limit");
    ok(ratelimit_take(6, 1, 100, 0, &retry), "a bucket of 100");
    n = 0;
    for (int i = 0; i < 10; i++)
        n += ratelimit_take(6, 1, 3, 0, &retry);
    is_int(n, 3, "a burst lowered by a reload caps the bucket");

    /* many principals: the table grows and keeps every bucket */
    for (int64_t id = 1000; id < 3000; id++)
        ratelimit_take(id, 1, 1, 0, &retry);
    n = 0;
    for (int64_t id = 1000; id < 3000; id++)
        n += ratelimit_take(id, 1, 1, 0, &retry);
    is_int(n, 0, "2000 principals: each bucket kept across growth");

    /* threads share one table: one principal's burst is not per thread */
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    is_int(atomic_load(&granted), 600, "4 threads x 250 requests: exactly the burst of 600");

    ratelimit_reset();
    ok(ratelimit_take(1, 2, 5, 1000, &retry), "reset forgets the buckets");
    return done_testing();
}
