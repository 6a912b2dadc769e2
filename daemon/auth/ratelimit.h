/*
 * ratelimit: a token bucket per principal, one table per process shared by
 * every worker thread (a mutex guards it), so the limit of a principal is
 * per daemon instance, whatever the number of workers. A bucket holds at
 * most `burst` tokens, gains `per_s` tokens a second and a request takes
 * one. The role's numbers come from the option table (rate_limit_<role>_*)
 * and are read at each request, so a bucket follows the current config.
 */
#ifndef MEDAID_AUTH_RATELIMIT_H
#define MEDAID_AUTH_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Take one token from principal id's bucket at now_ms (a monotonic clock).
 * per_s 0 = no limit (always true). A new bucket starts full. False when
 * the bucket is empty: the request is refused, not counted against the
 * bucket, and *retry_after_s (>= 1) is when a token will be there.
 */
bool ratelimit_take(int64_t id, int64_t per_s, int64_t burst, int64_t now_ms,
                    int64_t *retry_after_s);

/* Requests refused since the start (for metrics). */
uint64_t ratelimit_refused(void);

/* Forget every bucket (tests). */
void ratelimit_reset(void);

#endif
